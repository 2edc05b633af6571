"""A snapshot stored whole at ingest, stored by content when it is judged (docs/storage.md, "Ingest and compaction").

Ingest answers the agent as soon as the evidence is safe: the canonical document, gzip-compressed, in the snapshot
row (with its records and sets, which pages read at once). Splitting it into parts, each a delta against the part at
the same place in the host's previous snapshot, costs more than all the rest of ingest together for a snapshot of new
content; the evaluation task does it, before judging, in the same UPDATE that marks the snapshot running. The reader
(`Snapshot.canonical`) reads either form, so nothing depends on when this happens; the document's bytes do not
change (the split is checked byte for byte before the content is replaced).
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from django.db import connection, transaction

from inventory.models import SKELETON_MARK, STORAGE_LOCK, Snapshot
from inventory.services import store_document


def is_whole(content: bytes | memoryview) -> bool:
    """True when stored content is the whole document (gzip without the skeleton mark): not stored by content yet.
    Only its first byte is inflated."""
    content = bytes(content)
    if Snapshot.content_base(content) is not None:
        return False
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content, 1) != SKELETON_MARK


def compact_snapshot(snapshot: Snapshot, document: dict[str, Any] | None = None, **fields: Any) -> bool:
    """Store a snapshot stored whole by content, and write `fields` (the evaluation status the caller moves to) in
    the same UPDATE; returns whether the content was replaced. `document` is the parsed document, if the caller has
    it. A document whose split does not reassemble exactly stays whole (store_document checks)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Retention's sweep of unreferenced parts takes this lock alone (inventory.services.sweep_storage).
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [STORAGE_LOCK])
        row = Snapshot.objects.select_for_update().filter(pk=snapshot.pk).values_list("content", "host_id").first()
        if row is None:
            return False
        content, replaced = bytes(row[0]), None
        if is_whole(content):
            canonical = gzip.decompress(content)
            if document is None:
                document = json.loads(canonical)  # as Snapshot.document reads it
            previous = (Snapshot.objects.filter(host_id=row[1], pk__lt=snapshot.pk).order_by("-pk")
                        .values_list("content", flat=True).first())
            stored = store_document(document, canonical, snapshot.sha256,
                                    bytes(previous) if previous is not None else None)
            if not is_whole(stored):
                replaced = stored
        changes = dict(fields)
        if replaced is not None:
            changes["content"] = replaced
        if changes:
            Snapshot.objects.filter(pk=snapshot.pk).update(**changes)
            for name, value in changes.items():
                setattr(snapshot, name, value)
    return replaced is not None

