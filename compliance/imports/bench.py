"""docker-bench-security beside Plimsoll: each check and target, both verdicts, and why they differ.

A team moving from docker-bench sees exactly what changes. docker-bench gives one result per check, naming the
failing containers or images in `items`; Plimsoll judges every target. So each Plimsoll target takes docker-bench's
verdict for it: WARN when docker-bench names it (or names none, warning for all), PASS when it warned only about
others. Items that match no target of the snapshot are listed apart. Where the two differ, the reason is the
decision recorded for that check in docs/cis-docker.md ("Decisions"), and the exception, evidence or import that
changed Plimsoll's verdict, if one did.

The snapshot compared is the one standing for the host when docker-bench finished (else the host's current one).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from compliance.engine.runner import CHECKS_BY_CONTROL
from compliance.imports.models import BenchRun
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge, Verdict
from compliance.posture.services import TargetRow, ref_key, snapshot_rows
from inventory.models import Snapshot

# What each side's verdict means when they are put side by side.
BENCH_CLASS = {"PASS": "pass", "WARN": "fail", "INFO": "manual", "NOTE": "manual"}
PLIMSOLL_CLASS = {
    PostureStatus.PASS: "pass", PostureStatus.ATTESTED: "pass", PostureStatus.NOT_APPLICABLE: "pass",
    PostureStatus.FAIL: "fail", PostureStatus.EXCEPTED: "fail",
    PostureStatus.MANUAL: "manual", PostureStatus.INFO: "manual", PostureStatus.ERROR: "error",
}
DOCS = Path(settings.BASE_DIR) / "docs" / "cis-docker.md"
NOT_RUN = ("the docker-bench log has no result for this check (docker-bench skips section 5 without running containers "
           "and section 7 outside swarm mode; -c and -e limit the checks it runs)")
RANGE = re.compile(r"^(\d+(?:\.\d+)*)-(\d+(?:\.\d+)*)$")


@dataclass
class Row:
    """One check and target: docker-bench's verdict and Plimsoll's, and the reason when they differ."""

    control: str
    title: str
    target_kind: str
    target: str
    bench: str  # PASS, WARN, INFO, NOTE, or "" (docker-bench did not judge it)
    bench_details: str
    plimsoll: str  # a PostureStatus, or "" (Plimsoll has no such target or check)
    verdict: Verdict | None
    message: str
    agree: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def bench_badge(self) -> str:
        """The page's badge class of docker-bench's verdict."""
        return {"PASS": "pass", "WARN": "fail", "INFO": "info", "NOTE": "manual"}.get(self.bench, "")


@dataclass
class Comparison:
    run: BenchRun
    snapshot: Snapshot | None
    snapshot_note: str
    rows: list[Row]

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if not r.agree]

    @property
    def agreeing(self) -> int:
        return sum(1 for r in self.rows if r.agree)


@lru_cache(maxsize=4)
def _decisions(mtime: float) -> list[tuple[str, str, str]]:
    """(ids, decision, reason) rows of the Decisions table of docs/cis-docker.md."""
    rows: list[tuple[str, str, str]] = []
    inside = False
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = line.startswith("## Decisions")
            continue
        if not inside or not line.startswith("|") or line.startswith(("|---", "| id ")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            rows.append((cells[0], cells[1], " | ".join(cells[2:])))
    return rows


def _covers(ids: str, control: str) -> bool:
    """Whether a Decisions row's id cell ("5.16, 5.17", "1.1.3-1.1.18", "3.x", "4.4, 4.5, 4.12 with imports") names
    the control."""
    for term in ids.replace(" with imports", "").split(","):
        term = term.strip()
        if term == control or (term.endswith(".x") and control.startswith(term[:-1])):
            return True
        match = RANGE.match(term)
        if match and ref_key(match.group(1)) <= ref_key(control) <= ref_key(match.group(2)):
            return control.count(".") == match.group(1).count(".")
    return False


def documented_reasons(control: str) -> list[str]:
    """The decisions docs/cis-docker.md records for a check: what Plimsoll does and why docker-bench differs."""
    try:
        rows = _decisions(DOCS.stat().st_mtime)
    except OSError:
        return []
    return [f"{decision} — {reason}" if reason else decision for ids, decision, reason in rows if _covers(ids, control)]


def _why(control: str, verdict: Verdict | None) -> list[str]:
    reasons = []
    if verdict is not None:
        if verdict.exception is not None:
            reasons.append(f"an approved exception (#{verdict.exception.pk}) covers Plimsoll's fail")
        if verdict.evidence is not None:
            reasons.append(f"evidence #{verdict.evidence.pk} attests it in Plimsoll")
        if verdict.imported is not None and verdict.imported.sources:
            reasons.append(f"{verdict.imported.reason} ({verdict.imported.label})")
    reasons.extend(documented_reasons(control))
    if not reasons:
        check = CHECKS_BY_CONTROL.get(control)
        rule = f"Plimsoll's rule: {check.rule}" if check is not None and check.rule else "no rule recorded"
        reasons.append(f"no decision recorded for {control} in docs/cis-docker.md; {rule}")
    return reasons


def _names(row: TargetRow) -> set[str]:
    r = row.result
    names = {r.target_name, r.target_name.lstrip("/")}
    if r.target_id:
        ident = r.target_id.removeprefix("sha256:")
        names |= {r.target_id, ident, ident[:12]}
    return {n for n in names if n}


def _named(item: str, names: set[str]) -> bool:
    # docker-bench prints image tags as Go lists ("[busybox:1]") and container names as `docker ps` shows them.
    text = item.strip().strip("[]").lstrip("/").removeprefix("sha256:")
    if not text:
        return False
    return text in names or (len(text) >= 12 and any(n.startswith(text) for n in names if len(n) >= 12))


def _bench_for(entry: dict[str, Any], row: TargetRow) -> str:
    """docker-bench's verdict on one Plimsoll target of its check."""
    result = entry["result"]
    if row.result.target_kind == "host" or result != "WARN" or not entry["items"]:
        return result
    if any(_named(item, _names(row)) for item in entry["items"]):
        return "WARN"
    # docker-bench named other targets; a truncated list may have left this one out.
    return "WARN" if entry.get("truncated") else "PASS"


def standing_for(run: BenchRun) -> tuple[Snapshot | None, str]:
    moment = run.ended_at or run.started_at
    then = Snapshot.objects.standing(moment).filter(host_id=run.host_id).first()
    if then is not None:
        return then, f"the snapshot standing when docker-bench finished ({moment:%Y-%m-%d %H:%M} UTC)"
    now = Snapshot.objects.standing().filter(host_id=run.host_id).first()
    if now is not None:
        return now, "no judged snapshot of the host before docker-bench ran: its current one"
    return None, "the host has no judged snapshot: Plimsoll has no verdict yet"


def compare(run: BenchRun, judge: Judge | None = None) -> Comparison:
    snapshot, note = standing_for(run)
    judge = judge or Judge.at()
    rows_by_control: dict[str, list[TargetRow]] = defaultdict(list)
    if snapshot is not None:
        labels = dict(run.host.effective_labels or {})
        for row in snapshot_rows(snapshot, labels, judge):
            rows_by_control[row.result.control].append(row)
    bench = {entry["id"]: entry for entry in run.results}
    titles = {c: check.title for c, check in CHECKS_BY_CONTROL.items()}
    out: list[Row] = []
    for control in sorted(set(bench) | set(rows_by_control), key=ref_key):
        entry = bench.get(control)
        title = titles.get(control) or (entry["desc"] if entry else "")
        targets = rows_by_control.get(control, [])
        matched: set[str] = set()
        for target in targets:
            verdict = target.verdict
            status = str(verdict.status)
            said = _bench_for(entry, target) if entry else ""
            if entry and said == "WARN":
                matched |= {i for i in entry["items"] if _named(i, _names(target))}
            agree = bool(said) and BENCH_CLASS[said] == PLIMSOLL_CLASS[verdict.status]
            reasons = [] if agree else (
                _why(control, verdict) if said else [NOT_RUN])
            out.append(Row(control, title, target.result.target_kind, target.result.target_name or "host", said,
                           entry["details"] if entry else "", status, verdict, target.result.message, agree, reasons))
        if entry is None:
            continue
        if not targets:
            known = control in CHECKS_BY_CONTROL
            reason = ("Plimsoll judged no target of this check in the snapshot" if known else
                      f"not a CIS Docker Benchmark v1.6.0 recommendation Plimsoll judges ({entry['desc'][:120]})")
            out.append(Row(control, title, "", "", entry["result"], entry["details"], "", None, "", False,
                           [reason, *documented_reasons(control)]))
        for item in entry["items"]:
            if entry["result"] == "WARN" and item not in matched and targets:
                out.append(Row(control, title, "", item, "WARN", entry["details"], "", None, "", False,
                               ["docker-bench names a target the snapshot does not hold (a container started or "
                                "removed between the two collections, or a name Plimsoll cannot match)"]))
    return Comparison(run, snapshot, note, out)
