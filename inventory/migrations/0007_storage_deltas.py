"""Issue 13: parts and snapshot contents stored as deltas (nothing to move forwards; backwards they are stored whole
again: inventory/migrations/_storage_deltas.py), and no `_like` indexes on the content keys (sha256, digests) nor on
the evaluation status (inventory/migrations/_like_indexes.py). Non-atomic: the indexes go CONCURRENTLY and the
deltas in batches, on a live database."""

from django.db import migrations

from inventory.migrations._like_indexes import create_like_indexes, drop_like_indexes
from inventory.migrations._storage_deltas import store_deltas_whole

COLUMNS = [
    ("inventory_snapshot", "sha256"),
    ("inventory_snapshot", "evaluation_status"),
    ("inventory_documentpart", "sha256"),
    ("inventory_containerrecord", "digest"),
    ("inventory_containerset", "digest"),
    ("inventory_imagerecord", "digest"),
    ("inventory_imageset", "digest"),
    ("inventory_networkrecord", "digest"),
    ("inventory_networkset", "digest"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0006_storage_by_content")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, store_deltas_whole, elidable=False),
        migrations.RunPython(drop_like_indexes(COLUMNS), create_like_indexes(COLUMNS), elidable=False),
    ]
