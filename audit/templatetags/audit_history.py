"""`{% readable_events events as events %}`: audit events with their changes named (audit.history)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from audit.history import readable_changes
from audit.models import AuditEvent

register = template.Library()


@register.simple_tag
def readable_events(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    return readable_changes(events)
