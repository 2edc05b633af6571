"""What an OSCAL export is asked for: a framework, a scope, and an as-of moment or a period; parsed once for the API and
the command, each problem raised as an OscalError naming the parameter."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from common.scope import SelectorError, parse_selector
from compliance.posture.api import parse_as_of, parse_bool
from compliance.posture.services import PostureError
from frameworks.models import Framework
from frameworks.services import current_framework

PARAMETERS = ("framework", "scope", "as_of", "period_start", "period_end", "include_stopped")


class OscalError(ValueError):
    """An export that cannot be made as asked; `field` names the parameter, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ExportRequest:
    """A validated export request. The posture is judged at `moment` (None: now): as_of, or the period's end."""

    framework: Framework
    scope: str
    as_of: datetime.datetime | None
    period_start: datetime.datetime | None
    period_end: datetime.datetime | None
    include_stopped: bool | None

    @property
    def moment(self) -> datetime.datetime | None:
        return self.period_end or self.as_of


def _period_moment(value: str | None, field: str, end_of_day: bool) -> datetime.datetime | None:
    """An RFC 3339 time, or a date: its start (period_start) or its end (period_end), in UTC."""
    if not value:
        return None
    text = value.strip()
    try:
        day = parse_date(text) if len(text) == 10 else None
        moment = parse_datetime(text) if day is None else None
    except ValueError:
        raise OscalError(field, f"not a real date or time: {text!r}") from None
    if moment is None:
        if day is None:
            raise OscalError(field, f"expected a date (2026-11-30) or an RFC 3339 time, got {text!r}")
        moment = datetime.datetime.combine(day, datetime.time.max if end_of_day else datetime.time.min)
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        moment.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        raise OscalError(field, f"out of range: {text!r}") from None
    return moment


def parse_export_request(params: Mapping[str, str | None], now: datetime.datetime | None = None) -> ExportRequest:
    """Validate the parameters (the same rules as posture's for scope and as_of); raises OscalError."""
    now = now or timezone.now()
    slug = (params.get("framework") or "").strip()
    if not slug:
        raise OscalError("framework", "required: the slug of a loaded framework, e.g. pci-dss-4.0.1")
    try:
        framework = current_framework(slug)
    except Framework.DoesNotExist:
        raise OscalError("framework", f"no loaded framework {slug!r}") from None
    scope = (params.get("scope") or "").strip()
    try:
        parse_selector(scope)
    except SelectorError as exc:
        raise OscalError("scope", str(exc)) from None
    try:
        as_of = parse_as_of(params.get("as_of"))
        include_stopped = parse_bool(params.get("include_stopped"), "include_stopped")
    except PostureError as exc:
        raise OscalError(exc.field, exc.reason) from None
    start = _period_moment(params.get("period_start"), "period_start", end_of_day=False)
    end = _period_moment(params.get("period_end"), "period_end", end_of_day=True)
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise OscalError(missing, "a period has a start and an end")
    if start is not None and end is not None:
        if as_of is not None:
            raise OscalError("as_of", "give an as-of moment or a period, not both")
        if end <= start:
            raise OscalError("period_end", "the period ends before it starts")
        if start > now:
            raise OscalError("period_start", "the period starts in the future")
        end = min(end, now)
    return ExportRequest(framework, scope, as_of, start, end, include_stopped)
