"""What the overview at / shows: each current framework's posture now (chart, share passing, not covered apart,
trend), hosts gone stale, exceptions and evidence about to expire, snapshots whose evaluation failed.

Every number comes from the one posture (compute_posture, so the overview and GET /api/v1/posture/{slug}/ agree),
cached until a result, a decision, an upload or a label changes (compliance.dashboard.cache), in a fixed number of
queries whatever the size of the fleet: lists are capped, counts are counts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from compliance.administration.limits import NO_LIMITS, AccessLimits
from compliance.dashboard import charts
from compliance.dashboard.cache import cached_posture, fingerprint
from compliance.dashboard.trend import TrendPoint, live_point, load_trends
from compliance.evidence.models import Evidence
from compliance.exceptions.choices import RiskAcceptanceStatus
from compliance.exceptions.models import RiskAcceptance
from compliance.posture.services import Posture, Summary
from frameworks.models import Framework
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot

EXPIRY_DAYS = 30
LIST_LIMIT = 10


@dataclass
class Share:
    """Passing requirements among those CIS checks or evidence cover; not-covered ones are counted apart."""

    passing: int
    covered: int
    not_covered: int

    @property
    def value(self) -> float | None:
        return self.passing / self.covered if self.covered else None

    @property
    def formula(self) -> str:
        """The share with how it was computed, e.g. "42% passing = 120 passing / 285 covered requirements"."""
        if not self.covered:
            return "no covered requirement yet"
        return (f"{self.value * 100:.0f}% passing = {self.passing} passing / {self.covered} covered "
                f"requirement{'s' if self.covered != 1 else ''}")


def share_of(summary: Summary) -> Share:
    return Share(summary.passing, summary.covered, summary.not_covered)


def covered_counts(summary: Summary) -> dict[str, int]:
    """Covered requirements by status, worst first: what the status bar draws."""
    return {"failing": summary.failing, "needs_evidence": summary.needs_evidence, "passing": summary.passing}


@dataclass
class FrameworkCard:
    framework: Framework
    posture: Posture
    share: Share
    chart: charts.Chart
    trend: charts.Chart
    points: list[TrendPoint] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        return self.posture.summary


@dataclass
class Overview:
    cards: list[FrameworkCard]
    days: int
    stale_after_hours: int
    stale_count: int
    stale_hosts: list[Host]
    hosts: int
    expiring_exceptions: list[RiskAcceptance]
    expiring_exceptions_count: int
    expiring_evidence: list[Evidence]
    expiring_evidence_count: int
    failures: list[Snapshot]
    failures_count: int


def framework_cards(days: int, now: datetime.datetime, limits: AccessLimits = NO_LIMITS) -> list[FrameworkCard]:
    frameworks = [f for f in Framework.objects.in_force().order_by("name") if limits.allows(f.slug)]
    today = now.astimezone(datetime.UTC).date()
    # The daily records are estate-wide: an account limited to a label scope sees only its scope's live numbers.
    trends = load_trends([f.slug for f in frameworks], days, today) if not limits.scope else {}
    key = fingerprint(now)
    cards = []
    for framework in frameworks:
        posture = cached_posture(framework.slug, scope=limits.scope, key=key)
        summary = posture.summary
        points = [*trends.get(framework.slug, []), live_point(today, summary)]
        cards.append(FrameworkCard(
            framework=framework,
            posture=posture,
            share=share_of(summary),
            chart=charts.status_bar(covered_counts(summary), f"{framework.name}: covered requirements by status"),
            trend=charts.trend(points, f"{framework.name}: requirements over {days} days"),
            points=points,
        ))
    return cards


def stale_hosts(now: datetime.datetime) -> tuple[int, QuerySet[Host]]:
    """Hosts with no snapshot for longer than PLIMSOLL_STALE_HOURS (or none at all), the longest silent first."""
    cutoff = now - datetime.timedelta(hours=settings.PLIMSOLL_STALE_HOURS)
    stale = Host.objects.filter(Q(last_collected_at__lt=cutoff) | Q(last_collected_at__isnull=True))
    ordered = stale.order_by(F("last_collected_at").asc(nulls_first=True), "hostname", "id")
    return stale.count(), ordered.only("id", "hostname", "last_collected_at", "effective_labels")


def expiring_exceptions(now: datetime.datetime) -> QuerySet[RiskAcceptance]:
    """Approved exceptions in force now that lapse within EXPIRY_DAYS, soonest first."""
    in_force = Q(status=RiskAcceptanceStatus.APPROVED, approved_at__lte=now)
    window = Q(expires_at__gt=now, expires_at__lte=now + datetime.timedelta(days=EXPIRY_DAYS))
    return RiskAcceptance.objects.filter(in_force, window).select_related("scope_host").order_by("expires_at", "id")


def expiring_evidence(now: datetime.datetime) -> QuerySet[Evidence]:
    """Evidence counting now that stops counting within EXPIRY_DAYS, soonest first."""
    return Evidence.objects.filter(
        uploaded_at__lte=now, collected_at__lte=now, valid_until__gt=now,
        valid_until__lte=now + datetime.timedelta(days=EXPIRY_DAYS),
    ).select_related("scope_host").order_by("valid_until", "id")


def evaluation_failures() -> QuerySet[Snapshot]:
    """Snapshots whose evaluation failed, newest first (the document itself is not read)."""
    return (
        Snapshot.objects.filter(evaluation_status=EvaluationStatus.FAILED)
        .select_related("host")
        .only("id", "collected_at", "evaluated_at", "evaluation_error", "host__id", "host__hostname")
        .order_by("-evaluated_at", "-id")
    )


def build_overview(days: int, now: datetime.datetime | None = None, limits: AccessLimits = NO_LIMITS) -> Overview:
    now = now or timezone.now()
    stale_count, stale = stale_hosts(now)
    exceptions = expiring_exceptions(now)
    evidence = expiring_evidence(now)
    failures = evaluation_failures()
    return Overview(
        cards=framework_cards(days, now, limits),
        days=days,
        stale_after_hours=settings.PLIMSOLL_STALE_HOURS,
        stale_count=stale_count,
        stale_hosts=list(stale[:LIST_LIMIT]),
        hosts=Host.objects.count(),
        expiring_exceptions=list(exceptions[:LIST_LIMIT]),
        expiring_exceptions_count=exceptions.count(),
        expiring_evidence=list(evidence[:LIST_LIMIT]),
        expiring_evidence_count=evidence.count(),
        failures=list(failures[:LIST_LIMIT]),
        failures_count=failures.count(),
    )
