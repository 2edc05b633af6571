"""Compact evaluations (issue 13), step 1 of 3: the new columns, beside the old ones.

A run's policy by content (PolicyContent, the evaluation's `policy_content`), its counts on its tally set
(`TallySet.counts`, the sums of the set's rows), a result set's group ids packed (`ResultSet.group_ids`:
compliance.result_ids.pack_ids on PostgreSQL, JSON text on SQLite). Creating a table and adding nullable columns take
brief locks only; nothing is copied. Backward, the views are dropped while the columns go (SQLite rebuilds the
table, which a view naming it would stop) and created again.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

import compliance.result_ids

VIEWS = import_module("compliance.migrations.0012_results_views")


class Migration(migrations.Migration):

    dependencies = [("compliance", "0013_storage_no_like_indexes")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, VIEWS.create_views, elidable=False),
        migrations.CreateModel(
            name="PolicyContent",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("data", models.JSONField(blank=True, default=dict)),
            ],
        ),
        migrations.AddField(
            model_name="evaluation",
            name="policy_content",
            field=models.ForeignKey(
                blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="compliance.policycontent",
                help_text="The policy as it was when the run was made (none: an empty policy).",
            ),
        ),
        migrations.AddField(
            model_name="tallyset",
            name="counts",
            field=models.JSONField(blank=True, null=True, help_text="Results per status, over every row."),
        ),
        migrations.AddField(
            model_name="resultset",
            name="group_ids",
            field=compliance.result_ids.GroupIdsField(
                null=True, help_text="ResultGroup ids, in the order the engine judged the targets "
                                     "(compliance.result_ids.pack_ids).",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, VIEWS.drop_views, elidable=False),
    ]
