"""Posture: each requirement of a framework over the hosts in scope, from the latest results, the crosswalks,
approved exceptions and valid evidence; now, or as it stood at a past moment.

The cost is a fixed number of queries whatever the number of hosts: results are read as per-control tallies
(compliance.ControlTally), summed in SQL; only the controls an exception or evidence touches are read per host.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from common.scope import Selector, parse_selector
from compliance.choices import TargetKind
from compliance.engine import BENCHMARK
from compliance.evidence.services import valid_evidence
from compliance.exceptions.choices import ScopeKind
from compliance.exceptions.services import active_exceptions
from compliance.models import ControlTally, Result
from compliance.posture.choices import SEVERITY, RequirementStatus
from frameworks.models import Framework, Requirement
from frameworks.services import current_framework, mapped_source_ref_ids
from inventory.choices import EvaluationStatus
from inventory.models import Container, Host, LabelRule, Snapshot, effective_labels

COUNT_FIELDS = ("passed", "failed", "info", "manual", "not_applicable", "error")
HOST_WIDE_SCOPES = {ScopeKind.ALL, ScopeKind.SELECTOR, ScopeKind.HOST}


class PostureError(ValueError):
    """A posture request that cannot be answered (unknown framework, bad scope); `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Counts:
    """Targets judged under a requirement, after exceptions and evidence."""

    passing: int = 0
    failing: int = 0
    excepted: int = 0
    attested: int = 0
    manual: int = 0
    error: int = 0
    info: int = 0
    not_applicable: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def judged(self) -> int:
        return sum(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass
class ControlPosture:
    control: str
    counts: Counts
    failing_hosts: int
    excepted_by: list[int] = field(default_factory=list)
    attested_by: list[int] = field(default_factory=list)
    stopped_failing: int = 0


@dataclass
class RequirementPosture:
    ref_id: str
    title: str
    depth: int
    parent: str | None
    assessable: bool
    status: str
    controls: list[str]
    counts: Counts
    failing: list[dict[str, Any]]
    evidence: list[int]
    exceptions: list[int]
    stopped_failing: int


@dataclass
class Posture:
    framework: Framework
    selector: Selector
    as_of: datetime.datetime | None
    include_stopped: bool
    hosts: list[Any]
    requirements: list[RequirementPosture]
    summary: dict[str, Any]
    matched_exceptions: set[int]


def _status(counts: Counts, mapped: bool, has_evidence: bool, unjudged_hosts: int) -> str:
    if counts.failing:
        return RequirementStatus.FAILING
    if counts.manual or counts.error or (mapped and unjudged_hosts):
        # An in-scope host with no judged snapshot yet proves nothing either way.
        return RequirementStatus.NEEDS_EVIDENCE
    if counts.judged:
        return RequirementStatus.PASSING
    if not mapped:
        return RequirementStatus.PASSING if has_evidence else RequirementStatus.NOT_COVERED
    # Checks are mapped but no in-scope host has results for them: nothing proves the requirement.
    return RequirementStatus.NEEDS_EVIDENCE


def _hosts_in_scope(selector: Selector, as_of: datetime.datetime | None) -> list[Any]:
    """In-scope hosts with their effective labels and the snapshot that stands for them (as of `as_of`)."""
    rules = list(LabelRule.objects.all())
    fields = ["id", "hostname", "machine_id", "os_name", "kernel", "arch", "docker_version", "labels", "agent_labels"]
    queryset = Host.objects.order_by("hostname", "id")
    # The snapshot that stands for a host is its latest judged one: a newer snapshot still queued (or whose
    # evaluation failed) does not hide the host's results, and a host with none is reported as such.
    judged = Snapshot.objects.filter(host=OuterRef("pk"), evaluation_status=EvaluationStatus.DONE)
    if as_of is not None:
        judged = judged.filter(collected_at__lte=as_of)
    queryset = queryset.annotate(snapshot_id=Subquery(judged.order_by("-collected_at", "-id").values("id")[:1]))
    hosts = []
    # Plain rows, not model instances: thousands of hosts are read on every posture request.
    for row in queryset.values(*fields, "snapshot_id"):
        host = SimpleNamespace(**row)
        host.labels = effective_labels(host, rules)
        if selector.matches(host.labels):
            hosts.append(host)
    return hosts


def compute_posture(
    framework_slug: str,
    scope: str = "",
    as_of: datetime.datetime | None = None,
    include_stopped: bool | None = None,
) -> Posture:
    try:
        framework = current_framework(framework_slug)
    except Framework.DoesNotExist:
        raise PostureError("framework", f"no loaded framework {framework_slug!r}") from None
    try:
        selector = parse_selector(scope)
    except ValueError as exc:
        raise PostureError("scope", str(exc)) from None
    if include_stopped is None:
        include_stopped = settings.PLIMSOLL_POSTURE_INCLUDE_STOPPED
    at = as_of or timezone.now()

    requirements = list(
        Requirement.objects.filter(framework=framework)
        .order_by("order")
        .values("id", "ref_id", "title", "depth", "assessable", "parent__ref_id")
    )
    if framework.slug == BENCHMARK:
        mapped = {r["ref_id"]: {r["ref_id"]} for r in requirements if r["assessable"]}
    else:
        mapped = mapped_source_ref_ids(framework)
    all_controls = set().union(*mapped.values()) if mapped else set()

    hosts = _hosts_in_scope(selector, as_of)
    host_by_id = {h.id: h for h in hosts}
    snapshot_ids = [h.snapshot_id for h in hosts if h.snapshot_id]
    unjudged_hosts = len(hosts) - len(snapshot_ids)

    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control__in=all_controls)
    sums: dict[str, Any] = {}
    for name in COUNT_FIELDS:
        sums[f"run_{name}"] = Sum(name, filter=Q(stopped=False))
        sums[f"stop_{name}"] = Sum(name, filter=Q(stopped=True))
    # One running-group row per host and control, so counting rows counts hosts; with stopped containers counted
    # too a host can have two rows, and only a distinct count is right.
    sums["failing_hosts"] = (
        Count("host_id", distinct=True, filter=Q(failed__gt=0))
        if include_stopped else Count("id", filter=Q(failed__gt=0, stopped=False))
    )
    totals = {row["control"]: row for row in tallies.values("control").annotate(**sums)}

    exceptions = [e for e in active_exceptions(at) if e.control in all_controls]
    evidence = [e for e in valid_evidence(at) if _counts_here(e, hosts)]
    evidence_by_requirement: dict[int, list[Any]] = defaultdict(list)
    evidence_by_control: dict[str, list[Any]] = defaultdict(list)
    for item in evidence:
        for requirement_id in item.requirement_ids:
            evidence_by_requirement[requirement_id].append(item)
        for ref_id in item.cis_ref_ids:
            evidence_by_control[ref_id].append(item)
    requirement_ids = {r["ref_id"]: r["id"] for r in requirements}
    special = {e.control for e in exceptions} | set(evidence_by_control)
    for ref_id, controls in mapped.items():
        if requirement_ids.get(ref_id) in evidence_by_requirement:
            special |= controls

    per_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if special and snapshot_ids:
        per_host_rows = tallies.filter(control__in=special)
        if not include_stopped:
            per_host_rows = per_host_rows.filter(stopped=False)
        for row in per_host_rows.values("control", "host_id", "stopped", *COUNT_FIELDS):
            per_host[row["control"]].append(row)
    covered_fails = _target_scoped_exceptions(exceptions, snapshot_ids, host_by_id, include_stopped)

    matched: set[int] = set()

    def control_posture(control: str, requirement_id: int | None) -> ControlPosture:
        row = totals.get(control)
        counts = Counts()
        posture = ControlPosture(control, counts, 0)
        if row is None:
            return posture
        groups = ("run", "stop") if include_stopped else ("run",)
        counts.passing = sum(row[f"{g}_passed"] or 0 for g in groups)
        counts.failing = sum(row[f"{g}_failed"] or 0 for g in groups)
        counts.info = sum(row[f"{g}_info"] or 0 for g in groups)
        counts.manual = sum(row[f"{g}_manual"] or 0 for g in groups)
        counts.not_applicable = sum(row[f"{g}_not_applicable"] or 0 for g in groups)
        counts.error = sum(row[f"{g}_error"] or 0 for g in groups)
        posture.failing_hosts = row["failing_hosts"]
        posture.stopped_failing = 0 if include_stopped else row["stop_failed"] or 0
        if control not in special:
            return posture
        exceptions_here = [e for e in exceptions if e.control == control and e.scope_kind in HOST_WIDE_SCOPES]
        evidence_here = evidence_by_control.get(control, []) + evidence_by_requirement.get(requirement_id or 0, [])
        failing_hosts: set[int] = set()
        for row in per_host.get(control, ()):
            host = host_by_id[row["host_id"]]
            failed = row["failed"]
            excepted = 0
            if failed:
                cover = next((e for e in exceptions_here if e.covers(SimpleNamespace(control=control, target_kind="host",
                                                                                      target_name="", target_id=""), host)), None)
                if cover is not None:
                    excepted = failed
                    posture.excepted_by.append(cover.pk)
                else:
                    ids = covered_fails.get((control, host.id, row["stopped"]), [])
                    excepted = min(failed, len(ids))
                    posture.excepted_by.extend(ids)
            counts.failing -= excepted
            counts.excepted += excepted
            if failed - excepted:
                failing_hosts.add(host.id)
            if row["manual"]:
                attesting = next((e for e in evidence_here if e.covers_host(host)), None)
                if attesting is not None:
                    counts.manual -= row["manual"]
                    counts.attested += row["manual"]
                    posture.attested_by.append(attesting.pk)
        posture.failing_hosts = len(failing_hosts)
        matched.update(posture.excepted_by)
        return posture

    results: list[RequirementPosture] = []
    for r in requirements:
        controls = sorted(mapped.get(r["ref_id"], ()), key=_ref_key)
        counts = Counts()
        failing: list[dict[str, Any]] = []
        exception_ids: set[int] = set()
        evidence_ids: set[int] = set()
        stopped_failing = 0
        for control in controls:
            cp = control_posture(control, r["id"])
            counts.add(cp.counts)
            exception_ids.update(cp.excepted_by)
            evidence_ids.update(cp.attested_by)
            stopped_failing += cp.stopped_failing
            if cp.counts.failing:
                failing.append({"control": control, "hosts": cp.failing_hosts, "targets": cp.counts.failing})
        attached = [e.pk for e in evidence_by_requirement.get(r["id"], [])]
        evidence_ids.update(attached)
        status = _status(counts, bool(controls), bool(attached), unjudged_hosts)
        results.append(RequirementPosture(
            ref_id=r["ref_id"], title=r["title"], depth=r["depth"], parent=r["parent__ref_id"], assessable=r["assessable"],
            status=status, controls=controls, counts=counts, failing=failing, evidence=sorted(evidence_ids),
            exceptions=sorted(exception_ids), stopped_failing=stopped_failing,
        ))
    _roll_up(results)
    return Posture(framework, selector, as_of, include_stopped, hosts, results, _summary(results, hosts), matched)


def _target_scoped_exceptions(
    exceptions: list[Any], snapshot_ids: list[int], host_by_id: dict[int, Any], include_stopped: bool
) -> dict[tuple[str, int, bool], list[int]]:
    """(control, host id, stopped) -> ids of the exceptions covering each failing target (container or image scope)."""
    scoped = [e for e in exceptions if e.scope_kind not in HOST_WIDE_SCOPES]
    if not scoped or not snapshot_ids:
        return {}
    rows = Result.objects.filter(
        is_current=True, snapshot_id__any=snapshot_ids, control__in={e.control for e in scoped}, status="fail"
    )
    if not include_stopped:
        rows = rows.exclude(Q(target_kind=TargetKind.CONTAINER) & ~Q(target_state="running"))
    rows = list(rows.values("control", "host_id", "snapshot_id", "target_kind", "target_name", "target_id", "target_state"))
    images: dict[tuple[int, str], tuple[str, str]] = {}
    if any(e.scope_kind == ScopeKind.IMAGE for e in scoped):
        images = container_images(
            {r["snapshot_id"] for r in rows if r["target_kind"] == "container"},
            {r["target_id"] for r in rows if r["target_kind"] == "container"},
        )
    covered: dict[tuple[str, int, bool], list[int]] = defaultdict(list)
    for row in rows:
        result = SimpleNamespace(control=row["control"], target_kind=row["target_kind"], target_name=row["target_name"],
                                 target_id=row["target_id"], evidence={})
        host = host_by_id[row["host_id"]]
        image = images.get((row["snapshot_id"], row["target_id"]))
        cover = next((e for e in scoped if e.control == row["control"] and e.covers(result, host, image)), None)
        if cover is not None:
            stopped = row["target_kind"] == TargetKind.CONTAINER and row["target_state"] != "running"
            covered[(row["control"], host.id, stopped)].append(cover.pk)
    return covered


def container_images(snapshot_ids: set[int], container_ids: set[str]) -> dict[tuple[int, str], tuple[str, str]]:
    """(snapshot id, container id) -> (image reference, image id): what image-scoped exceptions match containers by."""
    rows = Container.objects.filter(snapshot_id__in=snapshot_ids, container_id__in=container_ids)
    values = rows.values_list("snapshot_id", "container_id", "image", "image_id")
    return {(snapshot, container): (image, image_id) for snapshot, container, image, image_id in values}


def _counts_here(evidence: Any, hosts: list[Any]) -> bool:
    """Evidence counts when its scope takes in an in-scope host; over no host at all, only unscoped evidence does."""
    if hosts:
        return any(evidence.covers_host(h) for h in hosts)
    return evidence.scope_host_id is None and not evidence.scope_selector


def _ref_key(ref_id: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in ref_id.replace("(", ".").replace(")", "").split("."))


def _roll_up(results: list[RequirementPosture]) -> None:
    """A node without checks of its own shows the worst status among the nodes under it."""
    by_ref = {r.ref_id: r for r in results}
    children: dict[str, list[RequirementPosture]] = defaultdict(list)
    for r in results:
        if r.parent:
            children[r.parent].append(r)
    for r in sorted(results, key=lambda r: -r.depth):
        kids = children.get(r.ref_id)
        if not kids:
            continue
        statuses = [k.status for k in kids] + ([r.status] if r.controls else [])
        worst = min(statuses, key=SEVERITY.index)
        if not r.controls or SEVERITY.index(worst) < SEVERITY.index(r.status):
            r.status = worst
        if not r.controls:
            for kid in kids:
                r.counts.add(kid.counts)
                r.stopped_failing += kid.stopped_failing
    del by_ref


def _summary(results: list[RequirementPosture], hosts: list[Any]) -> dict[str, Any]:
    assessable = [r for r in results if r.assessable]
    by_status = Counter(r.status for r in assessable)
    roots = [r for r in results if r.parent is None]
    by_root: dict[str, Counter[str]] = {r.ref_id: Counter() for r in roots}
    parent_of = {r.ref_id: r.parent for r in results}
    for r in assessable:
        root = r.ref_id
        while parent_of.get(root):
            root = parent_of[root]
        by_root.setdefault(root, Counter())[r.status] += 1
    groups = []
    for root in roots:
        counter = by_root.get(root.ref_id, Counter())
        total = sum(counter.values())
        groups.append({
            "ref_id": root.ref_id, "title": root.title, "status": root.status, "assessable": total,
            **{s.value: counter.get(s.value, 0) for s in RequirementStatus},
            "share_passing": round(counter.get(RequirementStatus.PASSING, 0) / total, 4) if total else None,
        })
    total = len(assessable)
    return {
        "hosts": len(hosts),
        "hosts_without_results": sum(1 for h in hosts if not h.snapshot_id),
        "assessable": total,
        **{s.value: by_status.get(s.value, 0) for s in RequirementStatus},
        "share_passing": round(by_status.get(RequirementStatus.PASSING, 0) / total, 4) if total else None,
        "groups": groups,
    }


def record_daily_posture(now: datetime.datetime | None = None) -> int:
    """Record today's summary for every assessment (and every framework over all hosts); idempotent per day.

    Also marks the exceptions that matched a result, so those that match nothing go stale.
    """
    from compliance.exceptions.services import mark_matched
    from compliance.posture.models import Assessment, PostureRecord

    now = now or timezone.now()
    scopes = {(a.framework_slug, a.selector, a.include_stopped) for a in Assessment.objects.all()}
    scopes |= {(slug, "", None) for slug in Framework.objects.filter(is_current=True).values_list("slug", flat=True)}
    matched: set[int] = set()
    for slug, selector, include_stopped in sorted(scopes, key=lambda s: (s[0], s[1])):
        try:
            posture = compute_posture(slug, selector, include_stopped=include_stopped)
        except PostureError:
            continue
        matched |= posture.matched_exceptions
        PostureRecord.objects.update_or_create(
            framework_slug=slug, selector=selector, day=now.date(),
            defaults={"recorded_at": now, "hosts": len(posture.hosts), "summary": posture.summary},
        )
    if matched:
        mark_matched(matched, now)
    return len(scopes)
