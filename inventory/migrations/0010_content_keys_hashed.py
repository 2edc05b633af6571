"""Issue 13: the snapshot's sha256 and the records' digests are kept unique by hash exclusion constraints on
PostgreSQL (about 20 bytes an entry instead of 80: common/hash_unique.py); SQLite keeps its unique indexes.
Non-atomic: each table is held only while its own constraint is built."""

from django.db import migrations, models

from common.hash_unique import to_btree, to_hash

KEYS = [
    ("inventory_snapshot", "sha256"),
    ("inventory_containerrecord", "digest"),
    ("inventory_imagerecord", "digest"),
    ("inventory_networkrecord", "digest"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0009_snapshot_row")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="snapshot", name="sha256",
                    field=models.CharField(help_text="sha256 of the canonical JSON document as stored.", max_length=64),
                ),
                *(migrations.AlterField(model_name=name, name="digest", field=models.CharField(max_length=64))
                  for name in ("containerrecord", "imagerecord", "networkrecord")),
            ],
            database_operations=[migrations.RunPython(to_hash(KEYS), to_btree(KEYS), elidable=False)],
        ),
    ]
