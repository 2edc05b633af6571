"""Ingest as the evaluation task leaves it: stored whole, then by content (inventory.compaction)."""

from __future__ import annotations

from typing import Any

from inventory.compaction import compact_snapshot
from inventory.services import IngestResult, ingest_snapshot


def ingest_and_store(document: Any, agent: Any) -> IngestResult:
    result = ingest_snapshot(document, agent)
    compact_snapshot(result.snapshot)
    return result


def two_judged_hours(agent: Any, snapshot_doc: Any) -> None:
    """One host's snapshots of two hours, judged: in the second its first container has exited."""
    from compliance.services import evaluate_snapshot

    for hour in range(2):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"2026-12-01T0{hour}:00:00Z"
        if hour:
            doc["docker"]["containers"][0]["inspect"]["State"].update(Status="exited", Running=False)
        evaluate_snapshot(ingest_snapshot(doc, agent).snapshot.pk)
