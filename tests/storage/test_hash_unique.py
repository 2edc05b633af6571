"""Content keys stay unique under hash exclusion constraints (common/hash_unique.py, issue 13)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from compliance.models import ResultSet
from inventory.models import ContainerRecord, Snapshot
from inventory.services import ingest_snapshot
from tests.storage.test_snapshot_migration import back_to_the_latest_afterwards, migrate  # noqa: F401

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="hash exclusion constraints are PostgreSQL's")


def _constraints(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


@pytest.mark.django_db
def test_a_second_row_with_a_stored_key_is_refused_and_ignore_conflicts_skips_it(agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    twin = Snapshot.objects.filter(pk=snapshot.pk).values()[0] | {"id": None}
    with pytest.raises(IntegrityError), transaction.atomic():
        Snapshot.objects.create(**twin)
    record = ContainerRecord.objects.first()
    ContainerRecord.objects.bulk_create([ContainerRecord(digest=record.digest, container_id="x", name="x")],
                                        ignore_conflicts=True)
    assert ContainerRecord.objects.filter(digest=record.digest).count() == 1
    ResultSet.objects.create(sha256="ab" * 32, group_ids=[1, 2])
    with pytest.raises(IntegrityError), transaction.atomic():
        ResultSet.objects.create(sha256="ab" * 32, group_ids=[])
    # The same document again is the stored snapshot, found by its key (the hash index).
    assert ingest_snapshot(snapshot_doc(), agent_token[0]).created is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_the_b_tree_comes_back_and_goes_again():
    assert "inventory_snapshot_sha256_hash_unique" in _constraints("inventory_snapshot")
    migrate([("inventory", "0009_snapshot_row"), ("compliance", "0016_compact_evaluations_views")])
    for table in ("inventory_snapshot", "compliance_resultgroup"):
        found = _constraints(table)
        assert not any(name.endswith("_hash_unique") for name in found)
        assert any(info["unique"] and info["columns"] == ["sha256"] for info in found.values())
    migrate([("inventory", "0010_content_keys_hashed"), ("compliance", "0017_content_keys_hashed")])
    found = _constraints("compliance_resultgroup")
    assert "compliance_resultgroup_sha256_hash_unique" in found
    assert not any(info["unique"] and info["columns"] == ["sha256"] for info in found.values())
