"""Issue 13: no `_like` indexes on the content keys of results and tallies (see
inventory/migrations/_like_indexes.py). Non-atomic: the indexes go CONCURRENTLY, on a live database."""

from django.db import migrations

from inventory.migrations._like_indexes import create_like_indexes, drop_like_indexes

COLUMNS = [
    ("compliance_resultset", "sha256"),
    ("compliance_resultlist", "sha256"),
    ("compliance_resultgroup", "sha256"),
    ("compliance_resultcontent", "sha256"),
    ("compliance_tallyset", "sha256"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0012_results_views")]

    operations = [
        migrations.RunPython(drop_like_indexes(COLUMNS), create_like_indexes(COLUMNS), elidable=False),
    ]
