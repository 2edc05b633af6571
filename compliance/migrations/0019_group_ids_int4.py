"""Issue 13: a result set's group ids as `integer[]` on PostgreSQL, 4 bytes an id instead of 8
(inventory/migrations/_int_arrays.py: live, in batches, then a short swap that rebuilds compliance_result;
reversible). SQLite is unchanged."""

from django.db import migrations

from inventory.migrations._int_arrays import convert


def to_int4(apps, schema_editor):
    convert(schema_editor.connection, "compliance_resultset", "group_ids", "integer[]", "compliance_resultgroup")


def to_int8(apps, schema_editor):
    convert(schema_editor.connection, "compliance_resultset", "group_ids", "bigint[]", "compliance_resultgroup")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0018_group_ids_array"), ("inventory", "0011_record_ids_int4")]

    operations = [migrations.RunPython(to_int4, to_int8, elidable=False)]
