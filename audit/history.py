"""Audit history as people read it: the ids a change recorded (`requested_by: None -> 2`) shown as the names they
stand for (`requested_by: — -> carol`).

The trail stores ids, which stay true when a name changes; names are resolved when the history is shown, one query
per related model on the page, whatever the number of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from audit.models import AuditEvent

EMPTY = "—"


@dataclass(frozen=True)
class ReadableChange:
    field: str
    old: str
    new: str


def _related_model(model: type[models.Model] | None, name: str) -> type[models.Model] | None:
    """The model a recorded field points to (a foreign key or a many-to-many field), else None."""
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.is_relation and (field.many_to_one or field.one_to_one or field.many_to_many) and field.concrete:
        return field.related_model  # type: ignore[return-value]
    return None


def _ids(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_pk(model: type[models.Model], value: Any) -> bool:
    """Whether a recorded value is an id of `model` (some records name the object already, e.g. a username)."""
    if isinstance(value, bool) or value is None:
        return False
    pk = model._meta.pk
    if isinstance(pk, models.AutoField | models.BigAutoField | models.IntegerField):
        return isinstance(value, int)
    try:
        pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    return True


def _names(model: type[models.Model], ids: set[str]) -> dict[str, str]:
    """{str(pk): display name}; a user reads as their username (the name used everywhere in the app)."""
    if model is get_user_model():
        field = model.USERNAME_FIELD
        return {str(pk): name for pk, name in model._default_manager.filter(pk__in=ids).values_list("pk", field)}
    return {str(pk): str(obj) for pk, obj in model._default_manager.in_bulk(list(ids)).items()}


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _model_of(event: AuditEvent) -> type[models.Model] | None:
    if event.content_type_id is None:
        return None
    return ContentType.objects.get_for_id(event.content_type_id).model_class()


def readable_changes(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The events, each with `.readable`: its changes as ReadableChange rows, related ids replaced by names."""
    events = list(events)
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    plan: list[tuple[AuditEvent, list[tuple[str, Any, Any, type[models.Model] | None]]]] = []
    for event in events:
        model = _model_of(event)
        rows = []
        for name, pair in (event.changes or {}).items():
            old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
            related = _related_model(model, name)
            if related is not None:
                wanted[related].update(str(v) for v in _ids(old) + _ids(new) if _is_pk(related, v))
            rows.append((name, old, new, related))
        plan.append((event, rows))
    names = {model: _names(model, ids) for model, ids in wanted.items() if ids}
    for event, rows in plan:
        event.readable = [  # type: ignore[attr-defined]
            ReadableChange(name, _name_of(old, related, names), _name_of(new, related, names))
            for name, old, new, related in rows
        ]
    return events


def _name_of(value: Any, related: type[models.Model] | None, names: dict[type[models.Model], dict[str, str]]) -> str:
    if related is None:
        return _text(value)
    found = names.get(related, {})
    labels = [found.get(str(v), f"#{v} (deleted)") if _is_pk(related, v) else _text(v) for v in _ids(value)]
    return ", ".join(labels) if labels else EMPTY


def changes_text(event: AuditEvent) -> str:
    """One line per change, for exports: `field: old -> new`. Call readable_changes on the events first."""
    readable: Sequence[ReadableChange] = getattr(event, "readable", ())
    return "\n".join(f"{c.field}: {c.old} -> {c.new}" for c in readable)
