"""CSV export of the audit trail, streamed so a long history costs constant memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEvent
from common.csv import csv_rows_response

COLUMNS = ["id", "timestamp", "actor", "action", "object_type", "object_id", "object", "changes", "ip"]


def rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    for event in events.iterator(chunk_size=2000):
        yield [
            event.pk,
            event.timestamp.isoformat(),
            event.actor_username,
            event.action,
            labels.get(event.content_type_id, "") if event.content_type_id else "",
            event.object_id,
            event.object_repr,
            json.dumps(event.changes, sort_keys=True) if event.changes else "",
            event.ip or "",
        ]


def csv_response(events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    return csv_rows_response(f"plimsoll-audit-{timezone.now():%Y%m%dT%H%M%SZ}.csv", COLUMNS, rows(events))
