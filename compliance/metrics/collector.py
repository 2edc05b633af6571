"""The gauges and database counters of /metrics, computed from the database at scrape time.

Nothing here lives in a process: whichever gunicorn worker answers a scrape reads the same rows, so the numbers
agree across workers and machines. Labels are bounded: frameworks and assessment scopes (a handful), requirement and
freshness statuses (fixed sets), CIS recommendations (~120). Never a label per host, container or image.

Postures come from compliance.posture.services through the dashboard's cache (keyed by the fingerprint of what a
posture is computed from), so a scrape in a quiet estate costs a few aggregate queries, and the numbers are those
the posture pages and the API show.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from compliance.dashboard.cache import TIMEOUT, cached_posture, fingerprint
from compliance.engine import BENCHMARK
from compliance.evidence.models import Evidence
from compliance.exceptions.choices import RiskAcceptanceStatus
from compliance.exceptions.models import RiskAcceptance
from compliance.models import Evaluation
from compliance.posture.choices import RequirementStatus
from compliance.posture.models import Assessment
from compliance.posture.services import Posture, PostureError, ref_key
from frameworks.models import Framework
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot

logger = logging.getLogger(__name__)

EXPIRY_WINDOWS = (7, 30)
# Upper bounds of the evaluation duration histogram, in seconds.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
QUEUE_STATUSES = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING, EvaluationStatus.FAILED)


@dataclass(frozen=True)
class Scope:
    """One posture the metrics report: a framework over every host (selector "") or over an assessment's scope."""

    framework: str
    selector: str
    include_stopped: bool | None


def scopes() -> list[Scope]:
    """Every current framework over all hosts, and every stored assessment (as record_daily_posture reads them)."""
    current = Framework.objects.filter(is_current=True).values_list("slug", flat=True)
    found = {(slug, ""): Scope(slug, "", None) for slug in current}
    for slug, selector, include_stopped in Assessment.objects.values_list("framework_slug", "selector", "include_stopped"):
        found.setdefault((slug, selector), Scope(slug, selector, include_stopped))
    return [found[key] for key in sorted(found)]


@dataclass(frozen=True)
class PostureSamples:
    """The posture metrics as plain values (cached between scrapes), and the fingerprint they were computed at."""

    fingerprint: str
    computed_at: float
    requirements: list[tuple[tuple[str, str, str], int]]
    hosts: list[tuple[tuple[str, str, str], int]]
    failing: list[tuple[str, int, int]]


CACHE_KEY = "plimsoll:metrics:posture"
_refreshing = threading.Lock()


def compute_posture_samples(key: str | None = None) -> PostureSamples:
    """Every posture the metrics report, through the dashboard's cache (the same postures the pages show)."""
    key = key or fingerprint()
    requirements: list[tuple[tuple[str, str, str], int]] = []
    hosts: list[tuple[tuple[str, str, str], int]] = []
    failing: list[tuple[str, int, int]] = []
    for scope in scopes():
        try:
            posture = cached_posture(scope.framework, scope.selector, include_stopped=scope.include_stopped, key=key)
        except PostureError as exc:
            # An assessment of a framework no longer loaded: nothing to report for it, and no scrape fails.
            logger.warning("metrics: posture of %s over %r skipped: %s", scope.framework, scope.selector, exc)
            continue
        summary = posture.summary
        for status in RequirementStatus:
            requirements.append(((scope.framework, scope.selector, status.value), getattr(summary, status.value)))
        hosts.append(((scope.framework, scope.selector, "yes"), summary.hosts - summary.hosts_without_results))
        hosts.append(((scope.framework, scope.selector, "no"), summary.hosts_without_results))
        if scope.framework == BENCHMARK and scope.selector == "":
            failing = _failing(posture)
    return PostureSamples(key, time.time(), requirements, hosts, failing)


def _failing(posture: Posture) -> list[tuple[str, int, int]]:
    # In the CIS Docker posture each assessable requirement is one recommendation mapped to itself.
    nodes = sorted((n for n in posture.requirements if n.assessable), key=lambda n: ref_key(n.ref_id))
    return [(n.ref_id, n.counts.failing, sum(f.hosts for f in n.failing)) for n in nodes]


def _refresh_in_background() -> None:
    """Recompute the posture samples in a thread of this process; one refresh at a time, the scrape does not wait."""
    if not _refreshing.acquire(blocking=False):
        return

    def run() -> None:
        try:
            cache.set(CACHE_KEY, compute_posture_samples(), TIMEOUT)
        except Exception:
            logger.exception("metrics: refreshing the posture metrics failed")
        finally:
            connection.close()
            _refreshing.release()

    threading.Thread(target=run, name="plimsoll-metrics-posture", daemon=True).start()


def posture_samples() -> PostureSamples:
    """The posture metrics: cached while the fingerprint is unchanged. After a change the last values are served and
    recomputed in the background (a posture over thousands of hosts takes seconds; a scrape must not), unless
    PLIMSOLL_METRICS_POSTURE_IN_BACKGROUND is off. The first scrape of a process computes them at once."""
    key = fingerprint()
    cached: PostureSamples | None = cache.get(CACHE_KEY)
    if cached is not None and cached.fingerprint == key:
        return cached
    if cached is not None and getattr(settings, "PLIMSOLL_METRICS_POSTURE_IN_BACKGROUND", True):
        _refresh_in_background()
        return cached
    samples = compute_posture_samples(key)
    cache.set(CACHE_KEY, samples, TIMEOUT)
    return samples


class PlimsollCollector(Collector):
    """Collects every database-backed metric on each scrape (prometheus_client calls collect() per scrape)."""

    def __init__(self, now: datetime.datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        yield from self.posture_metrics()
        yield self.hosts(now)
        yield from self.expiring(now)
        yield from self.evaluations(now)

    # Postures.

    def posture_metrics(self) -> Iterator[Metric]:
        samples = posture_samples()
        requirements = GaugeMetricFamily(
            "plimsoll_requirements",
            "Assessable requirements of a framework over a scope (\"\" = every host) by posture status.",
            labels=["framework", "scope", "status"],
        )
        hosts = GaugeMetricFamily(
            "plimsoll_scope_hosts", "Hosts in a posture's scope, and those without a judged snapshot.",
            labels=["framework", "scope", "judged"],
        )
        failing_targets = GaugeMetricFamily(
            "plimsoll_cis_failing_targets",
            "Targets (hosts, images, running containers) failing a CIS Docker recommendation over every host, after "
            "approved exceptions.",
            labels=["control"],
        )
        failing_hosts = GaugeMetricFamily(
            "plimsoll_cis_failing_hosts", "Hosts with at least one target failing a CIS Docker recommendation, after "
            "approved exceptions.", labels=["control"],
        )
        for labels, value in samples.requirements:
            requirements.add_metric(list(labels), value)
        for labels, value in samples.hosts:
            hosts.add_metric(list(labels), value)
        for control, targets, failing in samples.failing:
            failing_targets.add_metric([control], targets)
            failing_hosts.add_metric([control], failing)
        yield requirements
        yield hosts
        yield failing_targets
        yield failing_hosts
        yield GaugeMetricFamily(
            "plimsoll_posture_computed_timestamp_seconds",
            "When the posture metrics were computed (they are recomputed in the background after a change).",
            value=samples.computed_at,
        )

    # Hosts.

    @staticmethod
    def hosts(now: datetime.datetime) -> Metric:
        cutoff = now - datetime.timedelta(hours=settings.PLIMSOLL_STALE_HOURS)
        counts = Host.objects.aggregate(
            fresh=Count("id", filter=Q(last_collected_at__gte=cutoff)),
            stale=Count("id", filter=Q(last_collected_at__lt=cutoff)),
            never=Count("id", filter=Q(last_collected_at__isnull=True)),
        )
        family = GaugeMetricFamily(
            "plimsoll_hosts",
            f"Hosts by freshness: stale after {settings.PLIMSOLL_STALE_HOURS} h without a snapshot "
            "(PLIMSOLL_STALE_HOURS); never_reported: enrolled without a snapshot.",
            labels=["freshness"],
        )
        family.add_metric(["fresh"], counts["fresh"])
        family.add_metric(["stale"], counts["stale"])
        family.add_metric(["never_reported"], counts["never"])
        return family

    # Exceptions and evidence about to lapse (the overview's rules: in force now, ending within the window).

    @staticmethod
    def expiring(now: datetime.datetime) -> Iterator[Metric]:
        windows = {days: now + datetime.timedelta(days=days) for days in EXPIRY_WINDOWS}
        in_force = Q(status=RiskAcceptanceStatus.APPROVED, approved_at__lte=now, expires_at__gt=now)
        exceptions = RiskAcceptance.objects.filter(in_force).aggregate(
            active=Count("id"), **{f"d{days}": Count("id", filter=Q(expires_at__lte=end)) for days, end in windows.items()}
        )
        counting = Q(uploaded_at__lte=now, collected_at__lte=now, valid_until__gt=now)
        evidence = Evidence.objects.filter(counting).aggregate(
            valid=Count("id"), **{f"d{days}": Count("id", filter=Q(valid_until__lte=end)) for days, end in windows.items()}
        )
        for name, what, counts, total in (
            ("exceptions", "Approved exceptions in force", exceptions, "active"),
            ("evidence", "Evidence counting now", evidence, "valid"),
        ):
            family = GaugeMetricFamily(f"plimsoll_{name}_expiring", f"{what} that lapse within the window (days).",
                                       labels=["within_days"])
            for days in EXPIRY_WINDOWS:
                family.add_metric([str(days)], counts[f"d{days}"])
            yield family
            yield GaugeMetricFamily(f"plimsoll_{name}_{total}", f"{what}.", value=counts[total])

    # Evaluations.

    @staticmethod
    def evaluations(now: datetime.datetime) -> Iterator[Metric]:
        snapshots = Snapshot.objects.filter(evaluation_status__in=QUEUE_STATUSES)
        by_status = dict(snapshots.values_list("evaluation_status").annotate(n=Count("id")).order_by())
        queue = GaugeMetricFamily(
            "plimsoll_evaluation_snapshots",
            "Snapshots waiting for evaluation (queued), being judged (running), or whose evaluation failed.",
            labels=["status"],
        )
        for status in QUEUE_STATUSES:
            queue.add_metric([status.value], by_status.get(status.value, 0))
        yield queue
        oldest = snapshots.filter(evaluation_status=EvaluationStatus.QUEUED).aggregate(at=Min("received_at"))["at"]
        yield GaugeMetricFamily(
            "plimsoll_evaluation_oldest_queued_seconds", "Age of the oldest snapshot waiting for evaluation (0: none).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )

        duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        runs = Evaluation.objects.annotate(duration=duration)
        done = Q(status=EvaluationStatus.DONE, finished_at__isnull=False)
        aggregates = {
            "done": Count("id", filter=Q(status=EvaluationStatus.DONE)),
            "failed": Count("id", filter=Q(status=EvaluationStatus.FAILED)),
            "timed": Count("id", filter=done),
            "sum": Sum("duration", filter=done),
        }
        for i, bound in enumerate(DURATION_BUCKETS):
            aggregates[f"le{i}"] = Count("id", filter=done & Q(duration__lte=datetime.timedelta(seconds=bound)))
        row = runs.aggregate(**aggregates)

        runs_total = CounterMetricFamily(
            "plimsoll_evaluations", "Evaluation runs stored, by outcome (a failed run keeps the reason).",
            labels=["status"],
        )
        runs_total.add_metric(["done"], row["done"])
        runs_total.add_metric(["failed"], row["failed"])
        yield runs_total
        total = row["sum"] or datetime.timedelta(0)
        buckets = [(str(bound), row[f"le{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
        buckets.append(("+Inf", row["timed"]))
        yield HistogramMetricFamily(
            "plimsoll_evaluation_duration_seconds",
            "Time from the start to the end of each completed evaluation run (Evaluation.started_at to finished_at).",
            buckets=buckets, sum_value=total.total_seconds(),
        )
