"""Issue 13: the content keys (sha256) of result contents, lists, groups, sets, tally sets and policies are kept
unique by hash exclusion constraints on PostgreSQL (about 20 bytes an entry instead of 80: common/hash_unique.py);
SQLite keeps its unique indexes. Non-atomic: each table is held only while its own constraint is built."""

from django.db import migrations, models

from common.hash_unique import to_btree, to_hash

MODELS = ["policycontent", "resultcontent", "resultgroup", "resultlist", "resultset", "tallyset"]
KEYS = [(f"compliance_{name}", "sha256") for name in MODELS]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("compliance", "0016_compact_evaluations_views")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=name, name="sha256", field=models.CharField(max_length=64))
                for name in MODELS
            ],
            database_operations=[migrations.RunPython(to_hash(KEYS), to_btree(KEYS), elidable=False)],
        ),
    ]
