"""Ingest as the evaluation task leaves it: stored whole, then by content (inventory.compaction)."""

from __future__ import annotations

from typing import Any

from inventory.compaction import compact_snapshot
from inventory.services import IngestResult, ingest_snapshot


def ingest_and_store(document: Any, agent: Any) -> IngestResult:
    result = ingest_snapshot(document, agent)
    compact_snapshot(result.snapshot)
    return result
