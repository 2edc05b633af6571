"""CSV export of the audit trail, streamed so a long history costs constant memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEvent

COLUMNS = ["id", "timestamp", "actor", "action", "object_type", "object_id", "object", "changes", "ip"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A leading formula character would make a spreadsheet evaluate the cell.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    yield COLUMNS
    for event in events.iterator(chunk_size=2000):
        yield [
            str(event.pk),
            event.timestamp.isoformat(),
            cell(event.actor_username),
            event.action,
            labels.get(event.content_type_id, "") if event.content_type_id else "",
            cell(event.object_id),
            cell(event.object_repr),
            cell(json.dumps(event.changes, sort_keys=True)) if event.changes else "",
            event.ip or "",
        ]


def csv_response(events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows(events)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plimsoll-audit-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
    return response
