"""Issue 13: a container, image or network set's record ids as `integer[]` on PostgreSQL, 4 bytes an id instead of 8
(inventory/migrations/_int_arrays.py: live, in batches, then a short swap; reversible). SQLite is unchanged."""

from django.db import migrations

from inventory.migrations._int_arrays import convert

KINDS = ("container", "image", "network")


def to_int4(apps, schema_editor):
    for kind in KINDS:
        convert(schema_editor.connection, f"inventory_{kind}set", "records", "integer[]", f"inventory_{kind}record")


def to_int8(apps, schema_editor):
    for kind in KINDS:
        convert(schema_editor.connection, f"inventory_{kind}set", "records", "bigint[]", f"inventory_{kind}record")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0010_content_keys_hashed")]

    operations = [migrations.RunPython(to_int4, to_int8, elidable=False)]
