"""The posture tree and the drill-down as tables: the rows a page shows after its filters, and the same rows as an
export (common.exports), so a CSV or XLSX holds exactly what the page lists with the same query parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from compliance.dashboard.drilldown import DrillDown
from compliance.posture.choices import RequirementStatus
from compliance.posture.services import GroupSummary, Posture, RequirementPosture, TargetRow

TREE_STATUSES = tuple(RequirementStatus.values)
SEARCH_MAX = 200


class TreeFilterError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class TreeFilters:
    """Which requirements the tree lists: by status, and by a search on ref_id or title (case-insensitive)."""

    status: str = ""
    q: str = ""

    @classmethod
    def parse(cls, params: Any) -> TreeFilters:
        status = (params.get("status") or "").strip()
        if status and status not in TREE_STATUSES:
            raise TreeFilterError("status", f"one of {', '.join(TREE_STATUSES)}, not {status[:40]!r}")
        q = (params.get("q") or "").strip()
        if len(q) > SEARCH_MAX:
            raise TreeFilterError("q", f"at most {SEARCH_MAX} characters")
        return cls(status=status, q=q)

    @property
    def active(self) -> bool:
        return bool(self.status or self.q)

    def keeps(self, r: RequirementPosture) -> bool:
        if self.status and r.status != self.status:
            return False
        if self.q:
            needle = self.q.lower()
            return needle in r.ref_id.lower() or needle in r.title.lower()
        return True


@dataclass
class TreeGroup:
    """One root of the catalog (a chapter, a section) and its requirements that pass the filters."""

    root: RequirementPosture
    summary: GroupSummary | None
    rows: list[RequirementPosture] = field(default_factory=list)


def tree_groups(posture: Posture, filters: TreeFilters) -> list[TreeGroup]:
    """Requirements in catalog order, grouped under their root; a group with no row left is not listed."""
    summaries = {g.ref_id: g for g in posture.summary.groups}
    parent_of = {r.ref_id: r.parent for r in posture.requirements}
    groups: dict[str, TreeGroup] = {}
    for r in posture.requirements:
        root = r.ref_id
        while parent_of.get(root):
            root = parent_of[root]
        if r.parent is None:
            groups[r.ref_id] = TreeGroup(r, summaries.get(r.ref_id))
        if filters.keeps(r):
            groups[root].rows.append(r)
    return [g for g in groups.values() if g.rows]


def tree_rows(groups: Iterable[TreeGroup]) -> Iterator[RequirementPosture]:
    for group in groups:
        yield from group.rows


TREE_HEADER = [
    "ref_id", "title", "depth", "parent", "assessable", "status", "cis_controls", "pass", "fail", "excepted", "attested",
    "manual", "error", "info", "not_applicable", "failing_controls", "failing_on_stopped_containers", "evidence_ids",
    "exception_ids",
]


def tree_export_row(r: RequirementPosture) -> list[Any]:
    c = r.counts
    failing = [f"{f.control} ({f.targets} targets on {f.hosts} hosts)" for f in r.failing]
    return [
        r.ref_id, r.title, r.depth, r.parent or "", "yes" if r.assessable else "no", RequirementStatus(r.status).label,
        r.controls, c.passing, c.failing, c.excepted, c.attested, c.manual, c.error, c.info, c.not_applicable, failing,
        r.stopped_failing, r.evidence, r.exceptions,
    ]


DRILL_HEADER = [
    "control", "host", "target_kind", "target_name", "target_state", "status", "exception_id", "evidence_id", "message",
    "evidence_seen", "snapshot_id", "result_id",
]


def drill_export_row(row: TargetRow) -> list[Any]:
    r, v = row.result, row.verdict
    return [
        r.control, r.host.hostname, r.target_kind, r.target_name, r.target_state, v.status.label,
        v.exception.pk if v.exception else "", v.evidence.pk if v.evidence else "", r.message, r.evidence,
        r.snapshot_id, r.pk,
    ]


def drill_export_rows(drill: DrillDown) -> Iterator[list[Any]]:
    for row in drill:
        yield drill_export_row(row)
