"""Exports of the audit trail (CSV and XLSX), streamed in chunks so a long history costs constant memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.utils import timezone

from audit.history import changes_text, readable_changes
from audit.models import AuditEvent
from common.exports import export_response

# `changes` keeps the recorded ids (exact, machine-readable); `changes_readable` names what they point to.
COLUMNS = ["id", "timestamp", "actor", "action", "object_type", "object_id", "object", "changes", "ip", "changes_readable"]
CHUNK = 2000


def rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    stream = events.iterator(chunk_size=CHUNK)
    while chunk := list(islice(stream, CHUNK)):
        for event in readable_changes(chunk):
            yield [
                event.pk,
                event.timestamp,
                event.actor_username,
                event.action,
                labels.get(event.content_type_id, "") if event.content_type_id else "",
                event.object_id,
                event.object_repr,
                json.dumps(event.changes, sort_keys=True) if event.changes else "",
                event.ip or "",
                changes_text(event),
            ]


def export(events: QuerySet[AuditEvent], fmt: str = "csv") -> HttpResponseBase:
    """The events as a CSV or XLSX attachment; raises common.exports.ExportFormatError for another format."""
    return export_response(fmt, f"plimsoll-audit-{timezone.now():%Y%m%dT%H%M%SZ}", COLUMNS, rows(events), "Audit log")


def csv_response(events: QuerySet[AuditEvent]) -> HttpResponseBase:
    return export(events, "csv")
