"""Ingest stores a snapshot whole; its evaluation stores it by content, byte for byte (inventory.compaction)."""

from __future__ import annotations

import pytest

from compliance.services import evaluate_snapshot
from inventory.choices import EvaluationStatus
from inventory.compaction import is_whole
from inventory.models import DocumentPart, Snapshot
from inventory.services import ingest_snapshot
from inventory.snapshot_format import canonical_bytes

pytestmark = pytest.mark.django_db


def _repeat(snapshot_doc, hour: int) -> dict:
    doc = snapshot_doc()
    doc["agent"]["collected_at"] = f"2026-12-01T{hour:02d}:00:00Z"
    doc["docker"]["info"]["SystemTime"] = f"2026-12-01T{hour:02d}:00:00.5Z"
    return doc


def test_ingest_stores_whole_and_judging_stores_by_content(agent_token, snapshot_doc):
    doc = snapshot_doc()
    snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert is_whole(stored.content) and DocumentPart.objects.count() == 0
    assert stored.canonical == canonical_bytes(doc) and stored.verify()

    assert evaluate_snapshot(snapshot.pk) == "done"
    judged = Snapshot.objects.get(pk=snapshot.pk)
    assert not is_whole(judged.content) and DocumentPart.objects.count() > 10
    assert judged.canonical == canonical_bytes(doc) and judged.verify()
    assert judged.evaluation_status == EvaluationStatus.DONE and judged.skeleton is not None

    repeat = _repeat(snapshot_doc, 9)
    second = ingest_snapshot(repeat, agent_token[0]).snapshot
    parts = DocumentPart.objects.count()
    assert evaluate_snapshot(second.pk) == "done"
    again = Snapshot.objects.get(pk=second.pk)
    # Only the clock changed: no part, a skeleton stored as a small delta of the first one's.
    assert DocumentPart.objects.count() == parts and Snapshot.content_base(again.content) is not None
    assert len(again.content) < 300 and again.canonical == canonical_bytes(repeat) and again.verify()
    # Judging it again (a new policy, say) leaves the stored content as it is.
    assert evaluate_snapshot(second.pk, force=True) == "done"
    assert bytes(Snapshot.objects.get(pk=second.pk).content) == bytes(again.content)


def test_a_snapshot_that_cannot_be_stored_by_content_stays_whole_and_is_judged(agent_token, snapshot_doc, monkeypatch):
    import inventory.compaction

    def broken(*args, **kwargs):
        raise ValueError("split failed")

    monkeypatch.setattr(inventory.compaction, "store_document", broken)
    doc = snapshot_doc()
    snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
    assert evaluate_snapshot(snapshot.pk) == "done"
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert is_whole(stored.content) and stored.verify() and stored.evaluation_status == EvaluationStatus.DONE
    assert stored.evaluations.get(is_current=True).result_set_id is not None
