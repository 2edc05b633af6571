"""The trend: daily posture records, written by beat (production), by the app itself (embedded mode, no beat), or
rebuilt from stored snapshots (`manage.py record_posture --backfill DAYS`), and read back for the charts.

A record for a past day is that day's as-of posture (compute_posture with as_of = the end of the day): the
snapshots, labels, exceptions and evidence as they stood then. Today's record is the posture now.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import IntegerField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import PostureError, Summary, compute_posture, record_daily_posture
from frameworks.models import Framework
from inventory.models import Snapshot

TREND_DAYS = (30, 90, 365)
TREND_FIELDS = ("passing", "failing", "needs_evidence", "not_covered")


@dataclass(frozen=True)
class TrendPoint:
    """One day of a framework's trend: the counts the chart draws (charts.trend reads .day and .summary)."""

    day: datetime.date
    summary: dict[str, int]


def end_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)


def scopes() -> list[tuple[str, str, bool | None]]:
    """What is recorded each day, as record_daily_posture does: each assessment, and each framework over all hosts."""
    found = {(a.framework_slug, a.selector, a.include_stopped) for a in Assessment.objects.all()}
    found |= {(slug, "", None) for slug in Framework.objects.filter(is_current=True).values_list("slug", flat=True)}
    return sorted(found, key=lambda s: (s[0], s[1]))


def record_day(day: datetime.date, scope_list: list[tuple[str, str, bool | None]] | None = None) -> int:
    """Record (or rewrite) every scope's posture as it stood at the end of `day`; returns the records written."""
    as_of = end_of_day(day)
    written = 0
    for slug, selector, include_stopped in scope_list if scope_list is not None else scopes():
        try:
            posture = compute_posture(slug, selector, as_of=as_of, include_stopped=include_stopped)
        except PostureError:
            continue  # an assessment of a framework no longer loaded, or a selector no longer valid
        PostureRecord.objects.update_or_create(
            framework_slug=slug, selector=selector, day=day,
            defaults={"recorded_at": timezone.now(), "hosts": len(posture.hosts), "summary": posture.summary.as_dict()},
        )
        written += 1
    return written


def first_snapshot_day() -> datetime.date | None:
    first = Snapshot.objects.order_by("collected_at").values_list("collected_at", flat=True).first()
    return first.astimezone(datetime.UTC).date() if first else None


def backfill(days: int, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Rebuild the records of the last `days` days before today from stored snapshots, then record today.

    Days before the first stored snapshot are skipped: nothing was collected then. Returns (days, records) written.
    """
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).date()
    first = first_snapshot_day()
    scope_list = scopes()
    day_count = records = 0
    if first is not None:
        for offset in range(days, 0, -1):
            day = today - datetime.timedelta(days=offset)
            if day < first:
                continue
            records += record_day(day, scope_list)
            day_count += 1
    records += record_daily_posture(now)
    return day_count + 1, records


def embedded_mode() -> bool:
    """No broker, so no beat: the app writes the daily records itself."""
    return not settings.PLIMSOLL_BROKER_CONFIGURED


def record_today_if_missing(now: datetime.datetime | None = None) -> bool:
    """In the embedded mode, write today's records unless they exist: one query on most calls. True if it wrote."""
    if not embedded_mode():
        return False
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).date()
    recorded = set(PostureRecord.objects.filter(day=today, selector="").values_list("framework_slug", flat=True))
    current = set(Framework.objects.filter(is_current=True).values_list("slug", flat=True))
    if current <= recorded:
        return False
    record_daily_posture(now)
    return True


def load_trends(slugs: list[str], days: int, today: datetime.date) -> dict[str, list[TrendPoint]]:
    """The daily records of the last `days` days before today, per framework over all hosts (one query).

    Only the four counts are read out of each record's JSON, so a year of records stays cheap.
    """
    counts: dict[str, Any] = {name: Cast(KT(f"summary__{name}"), IntegerField()) for name in TREND_FIELDS}
    rows = (
        PostureRecord.objects.filter(
            framework_slug__in=slugs, selector="", day__gte=today - datetime.timedelta(days=days - 1), day__lt=today
        )
        .order_by("framework_slug", "day")
        .values("framework_slug", "day", **{f"n_{k}": v for k, v in counts.items()})
    )
    trends: dict[str, list[TrendPoint]] = {slug: [] for slug in slugs}
    for row in rows:
        trends[row["framework_slug"]].append(
            TrendPoint(row["day"], {name: row[f"n_{name}"] or 0 for name in TREND_FIELDS})
        )
    return trends


def live_point(today: datetime.date, summary: Summary) -> TrendPoint:
    """Today's point is the live posture, so the trend ends where the numbers beside it stand."""
    return TrendPoint(today, {name: getattr(summary, name) for name in TREND_FIELDS})
