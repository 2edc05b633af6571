"""The data move of inventory 0009 (issue 13): the snapshot row keeps no copy of what its document holds.

`agent_errors` was a copy of the document's agent.errors; it is read from the stored skeleton now
(Snapshot.agent_errors). Backwards, the column is filled again from each snapshot's skeleton, in batches.
On SQLite, altering the snapshot table rebuilds it, which the row views over it would not survive: they are dropped
first and created again after (PostgreSQL alters in place and keeps them).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from inventory.migrations._row_sets_as_arrays import KINDS, arrays_view_sql

BATCH = 200


def fill_agent_errors(apps: Any, schema_editor: Any) -> None:
    import inventory.models

    Snapshot = apps.get_model("inventory", "Snapshot")
    last = 0
    while True:
        ids = list(Snapshot.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        errors = inventory.models.Snapshot.agent_errors_of(ids)
        with transaction.atomic():
            for pk, listed in errors.items():
                if listed:
                    Snapshot.objects.filter(pk=pk).update(agent_errors=listed)
        last = ids[-1]


def drop_views_on_sqlite(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for kind in KINDS:
            schema_editor.execute(f"DROP VIEW IF EXISTS inventory_{kind}")


def create_views_on_sqlite(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for kind in KINDS:
            schema_editor.execute(arrays_view_sql(kind, "sqlite"))


def add_unjudged_index(apps: Any, schema_editor: Any) -> None:
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX{concurrently} IF NOT EXISTS snapshot_unjudged ON inventory_snapshot "
        "(evaluation_status, received_at) WHERE NOT (evaluation_status = 'done')"
    )


def drop_unjudged_index(apps: Any, schema_editor: Any) -> None:
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS snapshot_unjudged")
