"""A requirement's drill-down: the results behind its non-passing counts, each with the judge's verdict, filtered by
posture status and host, in natural control order (5.9 before 5.24), then host, target and id.

The rows are paged in SQL control by control: the size of each control comes from the posture's own tallies, and a
page reads only the snapshots holding its rows (the tallies of its controls say which: standing_slice). Only where a
filter separates what the judge may change (fail from excepted, manual from attested) on a control an exception or
evidence touches are that control's candidate rows read and judged one by one; everywhere else the raw status alone
decides, so the cost does not grow with the fleet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compliance.choices import ResultStatus, TargetKind
from compliance.models import STOPPED, Result
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Target
from compliance.posture.services import (
    Posture,
    RequirementPosture,
    ScopedHost,
    TargetRow,
    container_images,
    judge_rows,
    standing_slice,
    tallied_counts,
)

# The posture statuses a drill-down lists, and the raw status each comes from.
RAW_OF = {
    PostureStatus.FAIL: ResultStatus.FAIL,
    PostureStatus.EXCEPTED: ResultStatus.FAIL,
    PostureStatus.MANUAL: ResultStatus.MANUAL,
    PostureStatus.ATTESTED: ResultStatus.MANUAL,
    PostureStatus.ERROR: ResultStatus.ERROR,
}
DRILL_STATUSES = tuple(RAW_OF)
PLAIN = (PostureStatus.FAIL, PostureStatus.MANUAL, PostureStatus.ERROR)
ORDER = ("host__hostname", "target_kind", "target_name", "id")
CHUNK = 1000


class DrillDownError(ValueError):
    """A filter the drill-down cannot apply; `field` names the parameter."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Filters:
    status: str = ""
    host: str = ""

    @classmethod
    def parse(cls, params: Any) -> Filters:
        status = (params.get("status") or "").strip()
        if status and status not in DRILL_STATUSES:
            raise DrillDownError("status", f"one of {', '.join(DRILL_STATUSES)}, not {status[:40]!r}")
        return cls(status=status, host=(params.get("host") or "").strip())


def _splits(wanted: set[str]) -> bool:
    """Whether this filter keeps one of a raw status's two outcomes and drops the other."""
    return (PostureStatus.FAIL in wanted) != (PostureStatus.EXCEPTED in wanted) or (
        (PostureStatus.MANUAL in wanted) != (PostureStatus.ATTESTED in wanted)
    )


class DrillDown:
    """A sliceable sequence of TargetRow (Paginator and exports read it), with `count()`."""

    def __init__(self, posture: Posture, node: RequirementPosture, filters: Filters) -> None:
        self.posture = posture
        self.node = node
        self.filters = filters
        self.hosts: dict[int, ScopedHost] = {h.id: h for h in posture.hosts}
        wanted = {filters.status} if filters.status else set(DRILL_STATUSES)
        scoped = Result.objects.filter(is_current=True, snapshot_id__any=posture.snapshot_ids, control__in=node.controls)
        if not posture.include_stopped:
            scoped = scoped.exclude(STOPPED)
        host_ids: list[int] | None = None
        if filters.host:
            host_ids = [h.id for h in posture.hosts if h.hostname.lower() == filters.host.lower()]
            if not host_ids:
                raise DrillDownError("host", f"no host named {filters.host[:100]!r} is in scope")
            scoped = scoped.filter(host_id__in=host_ids)
        # Candidates: every raw status a wanted posture status can come from.
        self.base = scoped.filter(status__in=sorted({RAW_OF[s] for s in wanted}))
        judge = posture.judge
        split = [c for c in node.controls if judge.touches(c)] if _splits(wanted) else []
        # Where no exception or evidence touches a control, a raw status is its posture status: fail stays fail.
        plain_statuses = {RAW_OF[s] for s in wanted if s in PLAIN} if split else {RAW_OF[s] for s in wanted}
        self.plain = scoped.filter(status__in=sorted(plain_statuses))
        self.plain_statuses = plain_statuses
        # The in-scope hosts the rows come from, in hostname order (what standing_slice pages by).
        self.listed = [h for h in posture.hosts if h.snapshot_id and (host_ids is None or h.id in host_ids)]
        self.picked = self._pick(split, wanted) if split else {}
        sizes = tallied_counts(posture, [c for c in node.controls if c not in split], plain_statuses, host_ids)
        sizes.update({control: len(ids) for control, ids in self.picked.items()})
        self.sizes = [(c, sizes[c]) for c in node.controls if sizes.get(c)]

    def _pick(self, controls: list[str], wanted: set[str]) -> dict[str, list[int]]:
        """Judge every candidate row of these controls; keep the ids whose verdict the filter wants, in page order."""
        fields = ("id", "host_id", "snapshot_id", "control", "status", "target_kind", "target_name", "target_id",
                  "target_state")
        rows = list(self.base.filter(control__in=controls).order_by("control", *ORDER).values_list(*fields))
        containers = [r for r in rows if r[5] == TargetKind.CONTAINER]
        images = container_images({r[2] for r in containers}, {r[7] for r in containers}) if containers else {}
        picked: dict[str, list[int]] = {c: [] for c in controls}
        for pk, host_id, snapshot_id, control, status, kind, name, target_id, state in rows:
            target = Target(control, status, kind, name, target_id, state or "")
            verdict = self.posture.judge.verdict(target, self.hosts.get(host_id), images.get((snapshot_id, target_id)))
            if verdict.status in wanted:
                picked[control].append(pk)
        return picked

    def count(self) -> int:
        return sum(n for _, n in self.sizes)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[TargetRow]:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("a drill-down is read in slices")
        start, stop, _ = item.indices(self.count())
        results: list[Result] = []
        # Consecutive controls read straight from SQL form one run, read in one query; judged controls by their ids.
        run: list[str] = []
        run_offset = run_size = 0
        offset = 0

        def flush() -> None:
            nonlocal run, run_size
            if run:
                lo, hi = max(start - run_offset, 0), min(stop - run_offset, run_size)
                if lo < hi:
                    results.extend(standing_slice(self.plain, self.listed, run, self.plain_statuses,
                                                  self.posture.include_stopped, lo, hi))
            run, run_size = [], 0

        for control, n in self.sizes:
            if offset >= stop:
                break
            if control in self.picked:
                flush()
                lo, hi = max(start - offset, 0), min(stop - offset, n)
                if lo < hi:
                    ids = self.picked[control][lo:hi]
                    found = Result.objects.filter(id__in=ids).select_related("host").in_bulk()
                    results.extend(found[pk] for pk in ids)
            elif offset + n > start:
                if not run:
                    run_offset = offset
                run.append(control)
                run_size += n
            offset += n
        flush()
        return judge_rows(self.posture.judge, results, self.hosts)

    def __iter__(self) -> Iterator[TargetRow]:
        total = self.count()
        for start in range(0, total, CHUNK):
            yield from self[start:start + CHUNK]
