"""Issue 13: a smaller snapshot row. No `agent_errors` column (the skeleton holds them: Snapshot.agent_errors), no
index of `host` alone (the (host, collected_at) indexes lead with it) and the evaluation status indexed only where a
snapshot is not judged (the sweeper, metrics and overview look only there), built CONCURRENTLY on PostgreSQL.
inventory/migrations/_snapshot_row.py holds the data steps. Non-atomic, for the concurrent index."""

import django.db.models.deletion
from django.db import migrations, models

from inventory.migrations._snapshot_row import (
    add_unjudged_index,
    create_views_on_sqlite,
    drop_unjudged_index,
    drop_views_on_sqlite,
    fill_agent_errors,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0008_row_sets_as_arrays")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="snapshot",
                    index=models.Index(
                        condition=models.Q(("evaluation_status", "done"), _negated=True),
                        fields=["evaluation_status", "received_at"],
                        name="snapshot_unjudged",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(add_unjudged_index, drop_unjudged_index, elidable=False)],
        ),
        migrations.RunPython(drop_views_on_sqlite, create_views_on_sqlite, elidable=False),
        migrations.AlterField(
            model_name="snapshot",
            name="host",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="snapshots", to="inventory.host"),
        ),
        migrations.AlterField(
            model_name="snapshot",
            name="evaluation_status",
            field=models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"),
                                            ("failed", "Failed")], default="queued", max_length=16),
        ),
        migrations.RunPython(migrations.RunPython.noop, fill_agent_errors, elidable=False),
        migrations.RemoveField(model_name="snapshot", name="agent_errors"),
        migrations.RunPython(create_views_on_sqlite, drop_views_on_sqlite, elidable=False),
    ]
