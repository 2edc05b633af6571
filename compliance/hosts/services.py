"""What the estate pages read: results per host, per control and per target, each status decided by the one judge.

Counts come from the per-control tallies of the standing snapshots, summed in SQL; only the controls an exception or
evidence touches are read per host (as compute_posture does), so the number of queries does not grow with the fleet.
Lists of results are filtered by posture status in SQL where the judge's decision is per host (host-wide exceptions,
evidence), and by reading the failing rows of one control only where a container- or image-scoped exception may
cover some of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet, Sum

from common.scope import parse_selector
from compliance.choices import ResultStatus
from compliance.engine import BENCHMARK, CHECKS, CHECKS_BY_CONTROL
from compliance.models import STOPPED, ControlTally, Result
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge
from compliance.posture.services import (
    COUNT_FIELDS,
    Counts,
    ScopedHost,
    TargetRow,
    hosts_in_scope,
    judge_rows,
    ref_key,
    target_scoped_exceptions,
)
from frameworks.models import Framework, Requirement

# Tally columns -> Counts fields (the tally counts raw statuses; the judge moves some to excepted and attested).
_TALLY_TO_COUNTS = {
    "passed": "passing", "failed": "failing", "info": "info", "manual": "manual",
    "not_applicable": "not_applicable", "error": "error",
}

# Posture statuses whose results are found by raw status alone: the judge changes only fail and manual results.
_ONE_TO_ONE = {
    PostureStatus.PASS: ResultStatus.PASS, PostureStatus.INFO: ResultStatus.INFO,
    PostureStatus.NOT_APPLICABLE: ResultStatus.NOT_APPLICABLE, PostureStatus.ERROR: ResultStatus.ERROR,
}


def estate_hosts() -> dict[int, ScopedHost]:
    """Every host now, with its effective labels and the snapshot that stands for it (two queries)."""
    return {h.id: h for h in hosts_in_scope(parse_selector(""), None)}


def scoped_host(host: Any, snapshot_id: int | None) -> ScopedHost:
    """A Host row as the judge sees it now: its id and its effective labels."""
    return ScopedHost(host.pk, host.hostname, host.machine_id, dict(host.effective_labels or {}), snapshot_id)


def host_counts(
    hosts: Iterable[ScopedHost], judge: Judge | None = None, control: str | None = None
) -> dict[int, Counts | None]:
    """Host id -> its standing results (of one control, or all) counted by posture status (None: no judged
    snapshot), in a fixed number of queries. Stopped containers count only when the judge counts them, as in a
    posture. Without a judge, the judge of now, asked only when some host has results."""
    hosts = list(hosts)
    judged = {h.id: h for h in hosts if h.snapshot_id}
    counts = {host_id: Counts() for host_id in judged}
    if judged:
        _count(counts, judged, judge or Judge.at(), control)
    return {h.id: counts.get(h.id) for h in hosts}


def control_counts(control: str, hosts: Iterable[ScopedHost], judge: Judge) -> Counts:
    """One control's standing results over these hosts by posture status: its numbers in a posture."""
    total = Counts()
    for counts in host_counts(hosts, judge, control).values():
        if counts is not None:
            total.add(counts)
    return total


def stopped_failing(control: str, hosts: Iterable[ScopedHost]) -> int:
    """Failures of stopped containers (raw) on the hosts' standing snapshots: what a posture leaving them out notes."""
    snapshot_ids = [h.snapshot_id for h in hosts if h.snapshot_id]
    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control=control, stopped=True)
    return tallies.aggregate(n=Sum("failed"))["n"] or 0


def _count(counts: dict[int, Counts], judged: dict[int, ScopedHost], judge: Judge, control: str | None) -> None:
    snapshot_ids = [h.snapshot_id for h in judged.values()]
    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids)
    if control is not None:
        tallies = tallies.filter(control=control)
    if not judge.include_stopped:
        tallies = tallies.filter(stopped=False)
    sums = {f"sum_{name}": Sum(name) for name in COUNT_FIELDS}
    for row in tallies.order_by().values("host_id").annotate(**sums):
        for name, attribute in _TALLY_TO_COUNTS.items():
            setattr(counts[row["host_id"]], attribute, row[f"sum_{name}"] or 0)
    touched = judge.controls_touched if control is None else judge.controls_touched & {control}
    if not touched:
        return
    # Only the controls an exception or evidence touches are read per host, and decided as compute_posture does.
    covered = target_scoped_exceptions(judge, touched, snapshot_ids, judged)
    for row in tallies.filter(control__in=touched).values("control", "host_id", "stopped", "failed", "manual"):
        host, control, tally = judged[row["host_id"]], row["control"], counts[row["host_id"]]
        if row["failed"]:
            if judge.host_exception(control, host) is not None:
                excepted = row["failed"]
            else:
                excepted = min(row["failed"], len(covered.get((control, host.id, row["stopped"]), ())))
            tally.failing -= excepted
            tally.excepted += excepted
        if row["manual"] and judge.attesting(control, host) is not None:
            tally.manual -= row["manual"]
            tally.attested += row["manual"]


def judged_results(
    judge: Judge, control: str, hosts: dict[int, ScopedHost], status: str = "", rows: QuerySet[Result] | None = None
) -> QuerySet[Result]:
    """Current results of `control` on the hosts' standing snapshots whose posture status is `status` (any when
    empty), as the judge decides it; `rows` narrows them further. Stopped containers only when the judge counts them.
    """
    standing = Result.objects.filter(
        is_current=True, control=control, snapshot_id__any=[h.snapshot_id for h in hosts.values() if h.snapshot_id]
    )
    if not judge.include_stopped:
        standing = standing.exclude(STOPPED)
    condition = judged_condition(judge, control, hosts, status, standing)
    if rows is None:
        return standing.filter(condition)
    rows = rows.filter(control=control)
    if not judge.include_stopped:
        rows = rows.exclude(STOPPED)
    return rows.filter(condition)


def judged_condition(
    judge: Judge, control: str, hosts: dict[int, ScopedHost], status: str, standing: QuerySet[Result]
) -> Q:
    """The condition on a result of `control` that its posture status is `status` (any when empty).

    The judge decides per host for host-wide exceptions and evidence (a condition on host ids); only where a
    container- or image-scoped exception names the control are the failing `standing` results read one by one.
    """
    if not status:
        return Q()
    if status in _ONE_TO_ONE:
        return Q(status=_ONE_TO_ONE[PostureStatus(status)])
    if status in (PostureStatus.FAIL, PostureStatus.EXCEPTED):
        host_wide = [h.id for h in hosts.values() if judge.host_exception(control, h) is not None]
        failing = standing.filter(status=ResultStatus.FAIL).exclude(host_id__any=host_wide)
        excepted = Q(host_id__any=host_wide) | Q(pk__any=_target_covered_ids(judge, control, failing, hosts))
        return Q(status=ResultStatus.FAIL) & (excepted if status == PostureStatus.EXCEPTED else ~excepted)
    if status in (PostureStatus.MANUAL, PostureStatus.ATTESTED):
        attested = Q(host_id__any=[h.id for h in hosts.values() if judge.attesting(control, h) is not None])
        return Q(status=ResultStatus.MANUAL) & (attested if status == PostureStatus.ATTESTED else ~attested)
    return Q(pk__in=[])


def _target_covered_ids(judge: Judge, control: str, failing: QuerySet[Result], hosts: dict[int, ScopedHost]) -> list[int]:
    """Ids of the failing results a container- or image-scoped exception covers (read only when one may)."""
    if not judge.has_target_scopes(control):
        return []
    candidates = failing.only(
        "id", "control", "host_id", "snapshot_id", "target_kind", "target_name", "target_id", "target_state", "status"
    )
    return [row.result.pk for row in judge_rows(judge, candidates, hosts) if row.status == PostureStatus.EXCEPTED]


def failing_controls(
    judge: Judge, kind: str, targets: Iterable[tuple[int, str]], hosts: dict[int, ScopedHost]
) -> dict[tuple[int, str], list[str]]:
    """(snapshot id, target id) -> the controls that fail on that container or image after the judge, in natural
    order. One query for the results and one for the containers' images, whatever the number of targets."""
    targets = list(targets)
    if not targets:
        return {}
    # Naming the controls that judge this kind of target lets the (snapshot, control) index find the rows.
    controls = [check.control for check in CHECKS if check.scope == kind]
    rows = Result.objects.filter(
        is_current=True, status=ResultStatus.FAIL, target_kind=kind, control__in=controls,
        snapshot_id__in={s for s, _ in targets}, target_id__in={t for _, t in targets},
    ).only("id", "control", "host_id", "snapshot_id", "target_kind", "target_name", "target_id", "target_state", "status")
    wanted = set(targets)
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for row in judge_rows(judge, rows, hosts):
        key = (row.result.snapshot_id, row.result.target_id)
        if key in wanted and row.status == PostureStatus.FAIL:
            found[key].append(row.result.control)
    return {key: sorted(set(controls), key=ref_key) for key, controls in found.items()}


def section_titles() -> dict[str, str]:
    """CIS section id -> its title, from the catalog's root nodes ("1" -> "Host Configuration")."""
    return dict(
        Requirement.objects.filter(framework__slug=BENCHMARK, framework__is_current=True, depth=1)
        .values_list("ref_id", "title")
    )


def cis_framework() -> Framework | None:
    return Framework.objects.filter(slug=BENCHMARK, is_current=True).first()


def group_by_section(rows: Iterable[TargetRow], titles: dict[str, str]) -> list[dict[str, Any]]:
    """Rows (already in natural control order) grouped by CIS section, each group with its counts by status; each
    row comes with its check's title (templates cannot index a dict by a variable)."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        section = row.result.control.split(".", 1)[0]
        group = groups.get(section)
        if group is None:
            group = groups[section] = {
                "ref_id": section, "title": titles.get(section, f"Section {section}"), "rows": [], "counts": {},
            }
        group["rows"].append((row, getattr(CHECKS_BY_CONTROL.get(row.result.control), "title", "")))
        group["counts"][row.status] = group["counts"].get(row.status, 0) + 1
    for group in groups.values():
        group["counts"] = [(PostureStatus(s), n) for s, n in sorted(group["counts"].items(), key=_status_order)]
    return [groups[key] for key in sorted(groups, key=ref_key)]


STATUS_ORDER = [
    PostureStatus.FAIL, PostureStatus.ERROR, PostureStatus.MANUAL, PostureStatus.EXCEPTED, PostureStatus.ATTESTED,
    PostureStatus.PASS, PostureStatus.INFO, PostureStatus.NOT_APPLICABLE,
]


def status_counts(rows: Iterable[TargetRow]) -> list[tuple[PostureStatus, int]]:
    """How many rows have each posture status, worst first, statuses with none left out."""
    counter = Counter(row.status for row in rows)
    return [(status, counter[status]) for status in STATUS_ORDER if counter[status]]


def _status_order(item: tuple[str, int]) -> int:
    return STATUS_ORDER.index(PostureStatus(item[0]))
