"""Deltas (issue 13) undone: every part and snapshot content stored as a delta is stored whole again, so the layout
of 0006 (and its own reverse) reads them. Forwards there is nothing to move: contents and parts stored before are
read as they are, and pushes from now on store deltas. Batches of 500, each its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

import inventory.models

BATCH = 500


def store_deltas_whole(apps: Any, schema_editor: Any) -> None:
    DocumentPart = apps.get_model("inventory", "DocumentPart")
    Snapshot = apps.get_model("inventory", "Snapshot")
    parts, snapshots = inventory.models.DocumentPart, inventory.models.Snapshot
    last = ""
    while True:
        with transaction.atomic():
            rows = list(DocumentPart.objects.filter(sha256__gt=last).order_by("sha256").values_list("sha256", "data")[:BATCH])
            if not rows:
                break
            last = rows[-1][0]
            deltas = [(sha, data) for sha, data in rows if parts.base_of(data) is not None]
            for sha, stored in parts.unpack_rows(deltas).items():
                DocumentPart.objects.filter(sha256=sha).update(data=parts.pack(stored))
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(Snapshot.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", "content")[:BATCH])
            if not rows:
                break
            last_id = rows[-1][0]
            deltas = [(pk, content) for pk, content in rows if snapshots.content_base(content) is not None]
            unpacked = snapshots.unpack_contents([content for _, content in deltas])
            for (pk, _), stored in zip(deltas, unpacked, strict=True):
                Snapshot.objects.filter(pk=pk).update(content=snapshots.pack(stored))
