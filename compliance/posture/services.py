"""Posture: each requirement of a framework over the hosts in scope, from the standing results, the crosswalks,
approved exceptions and valid evidence; now, or as it stood at a past moment.

The cost is a fixed number of queries whatever the number of hosts: results are read as per-control tallies
(compliance.ControlTally), summed in SQL; only the controls an exception or evidence touches are read per host, and
every status there is decided by the one judge (compliance.posture.judge).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from common.scope import Selector, parse_selector
from compliance.choices import ResultStatus, TargetKind
from compliance.engine import BENCHMARK
from compliance.models import STOPPED, ControlTally, Result
from compliance.posture.choices import SEVERITY, PostureStatus, RequirementStatus
from compliance.posture.judge import Judge, Target, Verdict
from frameworks.models import Framework, Requirement
from frameworks.services import current_framework, mapped_source_ref_ids
from inventory.labels import labels_at
from inventory.models import Container, Host, Snapshot

COUNT_FIELDS = ("passed", "failed", "info", "manual", "not_applicable", "error")


class PostureError(ValueError):
    """A posture request that cannot be answered (unknown framework, bad scope); `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Counts:
    """Targets judged under a requirement, by posture status (the judge's, see judge.py)."""

    passing: int = 0
    failing: int = 0
    excepted: int = 0
    attested: int = 0
    manual: int = 0
    error: int = 0
    info: int = 0
    not_applicable: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def judged(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


@dataclass
class ScopedHost:
    """An in-scope host: its effective labels at the moment, and the snapshot that stands for it (None: not judged)."""

    id: int
    hostname: str
    machine_id: str
    labels: dict[str, str]
    snapshot_id: int | None


@dataclass
class FailingControl:
    """A CIS control that still fails under a requirement, after exceptions."""

    control: str
    hosts: int
    targets: int


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
    failing: list[FailingControl]
    evidence: list[int]
    exceptions: list[int]
    stopped_failing: int


@dataclass
class GroupSummary:
    """Assessable requirements under one root node of the catalog, by status."""

    ref_id: str
    title: str
    status: str
    assessable: int
    failing: int
    needs_evidence: int
    passing: int
    not_covered: int
    covered: int
    share_passing: float | None


@dataclass
class Summary:
    """Assessable requirements by status. Covered ones are those a CIS check or evidence decides (assessable minus
    not covered); share_passing = passing / covered, the share the pages print with its formula."""

    hosts: int
    hosts_without_results: int
    assessable: int
    failing: int
    needs_evidence: int
    passing: int
    not_covered: int
    covered: int
    share_passing: float | None
    groups: list[GroupSummary]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Posture:
    framework: Framework
    selector: Selector
    as_of: datetime.datetime | None
    include_stopped: bool
    hosts: list[ScopedHost]
    requirements: list[RequirementPosture]
    summary: Summary
    matched_exceptions: set[int]
    judge: Judge
    # Control -> raw count field (passed, failed...) -> results over the hosts, as counted (stopped containers only
    # when included): what the drill-down sizes its pages by. None in a posture cached before it was kept.
    tallies: dict[str, dict[str, int]] | None = None

    def requirement(self, ref_id: str) -> RequirementPosture | None:
        return next((r for r in self.requirements if r.ref_id == ref_id), None)

    @property
    def snapshot_ids(self) -> list[int]:
        return [h.snapshot_id for h in self.hosts if h.snapshot_id]


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


def hosts_in_scope(selector: Selector, as_of: datetime.datetime | None) -> list[ScopedHost]:
    """In-scope hosts with their effective labels and the snapshot that stands for them, as of `as_of`."""
    labels = labels_at(as_of)
    queryset = Host.objects.order_by("hostname", "id").annotate(snapshot_id=Snapshot.objects.standing_id(as_of))
    hosts = []
    # Plain rows, not model instances: thousands of hosts are read on every posture request.
    for row in queryset.values("id", "hostname", "machine_id", "snapshot_id"):
        host = ScopedHost(labels=labels.get(row["id"], {}), **row)
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
    judge = Judge.at(as_of, include_stopped)
    include_stopped = judge.include_stopped

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

    hosts = hosts_in_scope(selector, as_of)
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

    # Evidence attached to a requirement itself (a requirement no check covers passes on it).
    attached_to: dict[int, list[int]] = defaultdict(list)
    for item in judge.evidence:
        if _counts_here(item, hosts):
            for requirement_id in item.requirement_ids:
                attached_to[requirement_id].append(item.pk)

    special = judge.controls_touched & all_controls
    per_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if special and snapshot_ids:
        per_host_rows = tallies.filter(control__in=special)
        if not include_stopped:
            per_host_rows = per_host_rows.filter(stopped=False)
        for row in per_host_rows.values("control", "host_id", "stopped", *COUNT_FIELDS):
            per_host[row["control"]].append(row)
    covered_fails = target_scoped_exceptions(judge, special, snapshot_ids, host_by_id)

    matched: set[int] = set()
    by_control: dict[str, ControlPosture] = {}

    def control_posture(control: str) -> ControlPosture:
        if control in by_control:
            return by_control[control]
        row = totals.get(control)
        counts = Counts()
        posture = by_control[control] = ControlPosture(control, counts, 0)
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
        failing_hosts: set[int] = set()
        for row in per_host.get(control, ()):
            host = host_by_id[row["host_id"]]
            if control in judge.imported_controls:
                decided = _imported_row(judge, control, host, row, counts, posture)
                if decided is not None:
                    if decided == PostureStatus.FAIL:
                        failing_hosts.add(host.id)
                    continue
            failed = row["failed"]
            excepted = 0
            if failed:
                cover = judge.host_exception(control, host)
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
                attesting = judge.attesting(control, host)
                if attesting is not None:
                    counts.manual -= row["manual"]
                    counts.attested += row["manual"]
                    posture.attested_by.append(attesting.pk)
        posture.failing_hosts = len(failing_hosts)
        matched.update(posture.excepted_by)
        return posture

    results: list[RequirementPosture] = []
    for r in requirements:
        controls = sorted(mapped.get(r["ref_id"], ()), key=ref_key)
        counts = Counts()
        failing: list[FailingControl] = []
        exception_ids: set[int] = set()
        evidence_ids: set[int] = set()
        stopped_failing = 0
        for control in controls:
            cp = control_posture(control)
            counts.add(cp.counts)
            exception_ids.update(cp.excepted_by)
            evidence_ids.update(cp.attested_by)
            stopped_failing += cp.stopped_failing
            if cp.counts.failing:
                failing.append(FailingControl(control, cp.failing_hosts, cp.counts.failing))
        attached = attached_to.get(r["id"], [])
        evidence_ids.update(attached)
        status = _status(counts, bool(controls), bool(attached), unjudged_hosts)
        results.append(RequirementPosture(
            ref_id=r["ref_id"], title=r["title"], depth=r["depth"], parent=r["parent__ref_id"], assessable=r["assessable"],
            status=status, controls=controls, counts=counts, failing=failing, evidence=sorted(evidence_ids),
            exceptions=sorted(exception_ids), stopped_failing=stopped_failing,
        ))
    _roll_up(results)
    groups = ("run", "stop") if include_stopped else ("run",)
    raw = {control: {name: sum(row[f"{g}_{name}"] or 0 for g in groups) for name in COUNT_FIELDS}
           for control, row in totals.items()}
    return Posture(framework, selector, as_of, include_stopped, hosts, results, _summary(results, hosts), matched, judge,
                   raw)


# A tally column: the raw status it counts, and the posture count it is in before the judge.
RAW_COUNT = {"passed": ("pass", "passing"), "failed": ("fail", "failing"), "info": ("info", "info"),
             "manual": ("manual", "manual"), "not_applicable": ("not_applicable", "not_applicable"),
             "error": ("error", "error")}
POSTURE_COUNT = {PostureStatus.PASS: "passing", PostureStatus.FAIL: "failing", PostureStatus.EXCEPTED: "excepted",
                 PostureStatus.ATTESTED: "attested", PostureStatus.MANUAL: "manual", PostureStatus.ERROR: "error",
                 PostureStatus.INFO: "info", PostureStatus.NOT_APPLICABLE: "not_applicable"}


def _imported_row(
    judge: Judge, control: str, host: ScopedHost, row: dict[str, Any], counts: Counts, posture: ControlPosture
) -> PostureStatus | None:
    """A host-level 4.4, 4.5 or 4.12 result (one per host) as imported scans and signatures decide it, moved to the
    count of its verdict; None when imports do not decide it (the exception and evidence rules below apply)."""
    raw = [name for name in COUNT_FIELDS if row[name]]
    if len(raw) != 1 or row[raw[0]] != 1:
        return None
    status, before = RAW_COUNT[raw[0]]
    verdict = judge.verdict(Target(control, status, "host", ""), host)
    if verdict.imported is None:
        return None
    after = POSTURE_COUNT[verdict.status]
    setattr(counts, before, getattr(counts, before) - 1)
    setattr(counts, after, getattr(counts, after) + 1)
    if verdict.exception is not None:
        posture.excepted_by.append(verdict.exception.pk)
    if verdict.evidence is not None:
        posture.attested_by.append(verdict.evidence.pk)
    return verdict.status


def target_scoped_exceptions(
    judge: Judge, controls: set[str], snapshot_ids: list[int], host_by_id: dict[int, ScopedHost]
) -> dict[tuple[str, int, bool], list[int]]:
    """(control, host id, stopped) -> ids of the exceptions covering each failing target (container or image scope)."""
    scoped = {c for c in controls if judge.has_target_scopes(c)}
    if not scoped or not snapshot_ids:
        return {}
    rows = Result.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control__in=scoped, status=ResultStatus.FAIL)
    if not judge.include_stopped:
        rows = rows.exclude(STOPPED)
    rows = list(rows.only("control", "host_id", "snapshot_id", "target_kind", "target_name", "target_id", "target_state",
                          "status"))
    images = container_images(
        {r.snapshot_id for r in rows if r.target_kind == TargetKind.CONTAINER},
        {r.target_id for r in rows if r.target_kind == TargetKind.CONTAINER},
    )
    covered: dict[tuple[str, int, bool], list[int]] = defaultdict(list)
    for row in rows:
        host = host_by_id[row.host_id]
        if judge.host_exception(row.control, host) is not None:
            continue  # counted per host already
        cover = judge.target_exception(row, host, images.get((row.snapshot_id, row.target_id)))
        if cover is not None:
            covered[(row.control, host.id, row.is_stopped)].append(cover.pk)
    return covered


# Raw statuses a drill-down lists: what fails, and what waits for a person or for data.
LISTED_STATUSES = (ResultStatus.FAIL, ResultStatus.MANUAL, ResultStatus.ERROR)


@dataclass
class TargetRow:
    """One stored result as a posture shows it: the result, its host, and the judge's verdict on it."""

    result: Result
    host: ScopedHost | None
    verdict: Verdict

    @property
    def status(self) -> str:
        return self.verdict.status


def requirement_results(posture: Posture, node: RequirementPosture) -> QuerySet[Result]:
    """The results behind a requirement's non-passing counts, in a stable order: one row per counted target."""
    rows = Result.objects.filter(
        is_current=True, snapshot_id__any=posture.snapshot_ids, control__in=node.controls, status__in=LISTED_STATUSES
    )
    if not posture.include_stopped:
        rows = rows.exclude(STOPPED)
    return rows.select_related("host").order_by("control", "host__hostname", "target_kind", "target_name", "id")


# The order a requirement's rows are listed in, after the control's rank (controls in natural order).
RESULT_ORDER = ("host__hostname", "target_kind", "target_name", "id")


def tallied_counts(
    posture: Posture, controls: Iterable[str], statuses: Iterable[str], host_ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Control -> the posture's standing results of these controls with one of these raw statuses (controls with none
    left out; stopped containers only when the posture counts them). Over every in-scope host these are the tallies
    the posture summed (no query); over some of its hosts, their tallies (one query)."""
    controls = list(controls)
    columns = [ControlTally.STATUS_FIELDS[ResultStatus(s)] for s in sorted(set(statuses))]
    if not controls or not columns:
        return {}
    if host_ids is None and posture.tallies is not None:
        found = {c: sum(posture.tallies.get(c, {}).get(column, 0) for column in columns) for c in controls}
        return {control: n for control, n in found.items() if n}
    wanted = None if host_ids is None else set(host_ids)
    snapshot_ids = [h.snapshot_id for h in posture.hosts if h.snapshot_id and (wanted is None or h.id in wanted)]
    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control__in=controls)
    if not posture.include_stopped:
        tallies = tallies.filter(stopped=False)
    total = sum((F(column) for column in columns), Value(0))
    return {control: n for control, n in tallies.order_by().values_list("control").annotate(n=Sum(total)) if n}


def standing_slice(
    rows: QuerySet[Result],
    hosts: Sequence[ScopedHost],
    controls: Sequence[str],
    statuses: Iterable[str],
    include_stopped: bool,
    start: int,
    stop: int,
) -> list[Result]:
    """Rows [start:stop) of `rows` listed by control (in the order of `controls`), then hostname, target kind, target
    name and id. `rows` are the standing results of `hosts` (in hostname order, as hosts_in_scope lists them) with
    these raw statuses, stopped containers only when included (what the tallies count).

    The tallies of the slice's controls say how many rows each host holds under each, so only the snapshots holding
    rows of the slice are read: a page reads about a page of results whether the fleet has 20 hosts or 2,000, instead
    of unfolding every host's results and sorting them."""
    if start >= stop or not controls:
        return []
    columns = [ControlTally.STATUS_FIELDS[ResultStatus(s)] for s in sorted(set(statuses))]
    snapshot_ids = [h.snapshot_id for h in hosts if h.snapshot_id]
    # One row per snapshot and control (two with stopped containers): the controls of the slice only.
    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control__in=list(controls))
    if not include_stopped:
        tallies = tallies.filter(stopped=False)
    held: dict[tuple[str, int], int] = defaultdict(int)
    for snapshot_id, control, *values in tallies.values_list("snapshot_id", "control", *columns):
        held[(control, snapshot_id)] += sum(values)
    # Hosts sharing a hostname interleave by target: they are one block of the order.
    blocks: list[list[int]] = []
    previous: str | None = None
    for host in hosts:
        if not host.snapshot_id:
            continue
        if host.hostname != previous or not blocks:
            blocks.append([])
            previous = host.hostname
        blocks[-1].append(host.snapshot_id)
    wanted: set[tuple[str, int]] = set()
    first: int | None = None  # where the rows read start, in the order of `rows`
    first_control = 0  # where the first control read starts
    offset = 0
    for control in controls:
        if offset >= stop:
            break
        begins = offset
        for block in blocks:
            n = sum(held.get((control, s), 0) for s in block)
            if n and offset + n > start:
                if first is None:
                    first, first_control = offset, begins
                wanted.update((control, s) for s in block)
            offset += n
            if offset >= stop:
                break
    if first is None:
        return []
    picked_controls = [c for c in controls if any(w[0] == c for w in wanted)]
    rank = Case(*(When(control=c, then=Value(i)) for i, c in enumerate(picked_controls)), output_field=IntegerField())
    ordered = rows.filter(control__in=picked_controls).select_related("host").annotate(rank=rank).order_by("rank", *RESULT_ORDER)
    picked_snapshots = {s for _, s in wanted}
    if 4 * len(picked_snapshots) > len(snapshot_ids):
        # A slice over a good part of the hosts (an export's chunk, a small fleet) reads its controls whole: unfolding
        # their results snapshot by snapshot costs more than one pass over them all (the same past a quarter).
        return list(ordered[start - first_control:stop - first_control])
    # Reading (controls x snapshots) may bring rows of a control from a snapshot whose block held none of that
    # control's part of the slice; they are dropped, which leaves the slice's blocks in order from `first` on.
    found = [r for r in ordered.filter(snapshot_id__any=sorted(picked_snapshots)) if (r.control, r.snapshot_id) in wanted]
    return found[start - first:stop - first]


def judge_rows(judge: Judge, results: Iterable[Result], hosts: dict[int, ScopedHost]) -> list[TargetRow]:
    """Each result with the judge's verdict; the image of each container, for image-scoped exceptions."""
    results = list(results)
    containers = [r for r in results if r.target_kind == TargetKind.CONTAINER]
    images = container_images({r.snapshot_id for r in containers}, {r.target_id for r in containers}) if containers else {}
    rows = []
    for result in results:
        host = hosts.get(result.host_id)
        rows.append(TargetRow(result, host, judge.verdict(result, host, images.get((result.snapshot_id, result.target_id)))))
    return rows


def snapshot_rows(snapshot: Snapshot, labels: dict[str, str], judge: Judge | None = None) -> list[TargetRow]:
    """Every current result of one snapshot with its posture status (the host page), in natural control order."""
    judge = judge or Judge.at()
    host = ScopedHost(snapshot.host_id, "", "", labels, snapshot.pk)
    results = Result.objects.filter(snapshot=snapshot, is_current=True).defer("evidence", "expected")
    rows = judge_rows(judge, results, {host.id: host})
    rows.sort(key=lambda row: (ref_key(row.result.control), row.result.target_kind, row.result.target_name, row.result.pk))
    return rows


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


def ref_key(ref_id: str) -> tuple[Any, ...]:
    """Natural order of ids: 1.1.5 before 1.1.18, 5.9 before 5.24, 164.308(a)(1) before 164.308(a)(2)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in ref_id.replace("(", ".").replace(")", "").split("."))


def _roll_up(results: list[RequirementPosture]) -> None:
    """A node without checks of its own shows the worst status among the nodes under it."""
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


def _covered(counter: Counter[str], total: int) -> int:
    return total - counter.get(RequirementStatus.NOT_COVERED, 0)


def _share(counter: Counter[str], total: int) -> float | None:
    """passing / covered: requirements not covered by any check or evidence are counted apart, never in the share."""
    covered = _covered(counter, total)
    return round(counter.get(RequirementStatus.PASSING, 0) / covered, 4) if covered else None


def _summary(results: list[RequirementPosture], hosts: list[ScopedHost]) -> Summary:
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
        groups.append(GroupSummary(
            ref_id=root.ref_id, title=root.title, status=root.status, assessable=total,
            **{s.value: counter.get(s.value, 0) for s in RequirementStatus}, covered=_covered(counter, total),
            share_passing=_share(counter, total),
        ))
    return Summary(
        hosts=len(hosts),
        hosts_without_results=sum(1 for h in hosts if not h.snapshot_id),
        assessable=len(assessable),
        **{s.value: by_status.get(s.value, 0) for s in RequirementStatus},
        covered=_covered(by_status, len(assessable)),
        share_passing=_share(by_status, len(assessable)),
        groups=groups,
    )


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
            defaults={"recorded_at": now, "hosts": len(posture.hosts), "summary": posture.summary.as_dict()},
        )
    if matched:
        mark_matched(matched, now)
    return len(scopes)
