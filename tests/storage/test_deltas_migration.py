"""inventory 0007 / compliance 0013: backwards, parts and contents stored as deltas are stored whole again (so 0006
and its reverse read them) and the `_like` indexes come back; forwards again, they go. Nothing is lost."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory.models import DocumentPart, Snapshot
from inventory.services import ingest_snapshot
from inventory.snapshot_format import canonical_bytes

INVENTORY = import_module("inventory.migrations.0007_storage_deltas").COLUMNS
COMPLIANCE = import_module("compliance.migrations.0013_storage_no_like_indexes").COLUMNS
BEFORE = [("inventory", "0006_storage_by_content"), ("compliance", "0012_results_views")]


def like_indexes() -> int:
    """The `_like` indexes on the columns 0007 and 0013 drop them from."""
    with connection.cursor() as cursor:
        found = 0
        for table, column in INVENTORY + COMPLIANCE:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                           "AND indexdef LIKE %s", [table, f"%({column} varchar_pattern_ops)%"])
            found += cursor.fetchone()[0]
        return found


@pytest.fixture
def back_to_the_latest_afterwards() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_it_stores_deltas_whole_and_restores_the_like_indexes_backwards(agent_token, snapshot_doc):
    if connection.vendor != "postgresql":
        pytest.skip("indexes of PostgreSQL")
    docs = {}
    for hour in range(4):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"2026-12-01T{8 + hour:02d}:00:00Z"
        doc["docker"]["info"]["SystemTime"] = f"2026-12-01T{8 + hour:02d}:00:00Z"
        doc["docker"]["containers"][0]["inspect"]["State"]["Pid"] = 1000 + hour  # a part stored as a delta
        docs[ingest_snapshot(doc, agent_token[0]).snapshot.pk] = canonical_bytes(doc)
    assert like_indexes() == 0
    assert any(DocumentPart.base_of(d) for d in DocumentPart.objects.values_list("data", flat=True))

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert like_indexes() == 14
    assert not any(DocumentPart.base_of(d) for d in DocumentPart.objects.values_list("data", flat=True))
    for pk, content in Snapshot.objects.values_list("pk", "content"):
        unpacked = gzip.decompress(bytes(content))  # the form 0006 reads
        assert DocumentPart.canonical(unpacked) == docs[pk]

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert like_indexes() == 0
    for snapshot in Snapshot.objects.all():
        assert snapshot.canonical == docs[snapshot.pk] and snapshot.verify()
