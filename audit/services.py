"""Recording the audit trail; every app calls `record(...)` in the same transaction as the change it records."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.choices import AuditAction
from audit.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only: a forwarded header is whatever the client chose to send unless a trusted proxy set it.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(_plain(v) for v in value) if isinstance(value, set | frozenset) else [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def field_values(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of `fields` on `obj`; a foreign key is read as its id without a query."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
        elif field.is_relation:
            values[name] = getattr(obj, field.attname)
        else:
            values[name] = _plain(getattr(obj, name))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field whose value differs; a field missing on one side is None there."""
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The changes of a create: every field from None to its value."""
    return {name: [None, _plain(value)] for name, value in sorted(values.items())}


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: Any = None,
    changes: dict[str, list[Any]] | None = None,
    request: HttpRequest | None = None,
    object_repr: str | None = None,
    username: str | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """Add one audit event. The actor defaults to the request's user; anonymous users are recorded by `username`."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=(actor.get_username() if actor is not None else (username or ""))[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=(object_id if object_id is not None else str(obj.pk) if obj is not None else "")[:64],
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:300],
        changes=changes or {},
        ip=client_ip(request),
    )


def record_reminder(obj: models.Model, reminder: models.Model) -> AuditEvent:
    """A reminder about `obj` was sent by the system: at which threshold, and to whom."""
    return record(AuditAction.REMIND, obj, changes=created(field_values(reminder, ["days_before", "recipients"])))


def events_for(obj: models.Model) -> QuerySet[AuditEvent]:
    """The audit history of one object, newest first."""
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
