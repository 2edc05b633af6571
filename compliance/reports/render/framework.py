"""The framework assessment: the posture of one framework over a scope, as of a moment or at the end of a period,
with every requirement's section, the trend and changes over the period, and the evidence pack.

Statuses and counts are the posture's (compute_posture); each target's status is the judge's (judge_rows). posture.json
is PostureSerializer.from_posture(posture) rendered by DRF's JSON renderer: the bytes GET /api/v1/posture/{slug}/ sends.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rest_framework.renderers import JSONRenderer

from compliance.dashboard.charts import status_bar, trend
from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL
from compliance.exceptions.services import active_exceptions
from compliance.posture.choices import RequirementStatus
from compliance.posture.models import PostureRecord
from compliance.posture.serializers import PostureSerializer
from compliance.posture.services import Posture, RequirementPosture, compute_posture, ref_key, requirement_results
from compliance.reports.models import Report
from compliance.reports.render import Content, Progress, pack_file, sources
from compliance.reports.render.findings import VALUE_FIELDS, ControlFindings, FindingsCollector, with_evidence_text

TOP = 10
EXPIRING_DAYS = 30
TREND_DAYS = 30
REQUIREMENT_COLUMNS = ["requirement", "requirement_status"]
COUNT_ORDER = ["passing", "failing", "excepted", "attested", "manual", "error", "info", "not_applicable"]


@dataclass
class Section:
    """One requirement as the PDF shows it."""

    node: RequirementPosture
    anchor: str
    level: int
    mapped: list[dict[str, Any]]
    findings: list[ControlFindings]
    exceptions: list[Any]
    evidence: list[Any]
    has_children: bool = False

    @property
    def listed(self) -> int:
        return sum(f.rows for f in self.findings)

    @property
    def count_items(self) -> list[tuple[str, int]]:
        """The non-zero counts, as printed (zero counts would make most of a PCI DSS report)."""
        counts = asdict(self.node.counts)
        return [(name.replace("_", " "), counts[name]) for name in COUNT_ORDER if counts[name]]


def anchor(ref_id: str) -> str:
    return "req-" + "".join(c if c.isalnum() else "-" for c in ref_id)


def build(report: Report, workdir: Path, progress: Progress) -> Content:
    progress(5, "Computing the posture")
    posture = compute_posture(report.framework_slug, report.scope, report.as_of, report.include_stopped)
    framework = posture.framework
    start_posture = None
    if report.period_start:
        progress(8, "Computing the posture at the start of the period")
        start_posture = compute_posture(report.framework_slug, report.scope, report.period_start, report.include_stopped)

    snapshots = sources.snapshots(posture.snapshot_ids)
    titles = sources.control_titles()
    collector = FindingsCollector(workdir, posture.judge, posture.hosts, snapshots, titles)
    controls = sorted({c for r in posture.requirements for c in r.controls})
    for index, control in enumerate(controls):
        progress(10 + 40 * index // max(len(controls), 1), f"Reading the targets of CIS {control}")
        node = _node_for(posture, control)
        rows = with_evidence_text(requirement_results(posture, node))
        collector.collect(control, rows.values_list(*VALUE_FIELDS).iterator(chunk_size=2000))

    progress(50, "Writing findings.csv")
    findings_path = workdir / "findings.csv"
    rows = collector.write_csv(
        findings_path,
        # The drill-down's order: requirement_results sorts by control id as text.
        (((r.ref_id, r.status), sorted(r.controls)) for r in posture.requirements if r.controls),
        REQUIREMENT_COLUMNS,
    )
    collector.close()
    posture_path = workdir / "posture.json"
    posture_path.write_bytes(JSONRenderer().render(PostureSerializer.from_posture(posture)))

    progress(55, "Gathering exceptions, evidence and catalogs")
    exception_ids = {i for r in posture.requirements for i in r.exceptions} | collector.exception_ids
    evidence_ids = {i for r in posture.requirements for i in r.evidence} | collector.evidence_ids
    exceptions = sources.exceptions(exception_ids)
    evidence = sources.evidence(evidence_ids)
    mapped = _mapped(posture)
    parents = {r.parent for r in posture.requirements if r.parent}
    sections = []
    for node in posture.requirements:
        sections.append(Section(
            node=node, anchor=anchor(node.ref_id), level=min(node.depth + 1, 6), mapped=mapped.get(node.ref_id, []),
            findings=[collector.by_control[c] for c in node.controls if collector.by_control.get(c, None)
                      and collector.by_control[c].rows],
            exceptions=[exceptions[i] for i in node.exceptions if i in exceptions],
            evidence=[evidence[i] for i in node.evidence if i in evidence], has_children=node.ref_id in parents,
        ))

    catalogs = sources.catalogs(framework)
    snapshot_rows = sorted(snapshots.values(), key=lambda s: (s["host__hostname"], s["id"]))
    summary = posture.summary
    scope_text = str(posture.selector) or "all hosts"
    moment = _moment_text(report)
    hostnames = {h.id: h.hostname for h in posture.hosts}
    context = {
        "posture": posture,
        "framework": framework,
        "summary": summary,
        "sections": sections,
        "scope_text": scope_text,
        "moment_text": moment,
        "totals": {
            "hosts": len(posture.hosts),
            "judged": len(posture.snapshot_ids),
            "running": sum(s["running_count"] for s in snapshots.values()),
            "containers": sum(s["container_count"] for s in snapshots.values()),
            "images": sum(s["image_count"] for s in snapshots.values()),
        },
        "formulas": _formulas(summary),
        "status_chart": status_bar({s.value: getattr(summary, s.value) for s in RequirementStatus},
                                   "Assessable requirements by status"),
        "trend_chart": _trend(report, posture),
        "changes": _changes(start_posture, posture) if start_posture else None,
        "not_covered": [r for r in posture.requirements if r.assessable and r.status == RequirementStatus.NOT_COVERED],
        "top_requirements": sorted((r for r in posture.requirements if r.assessable and r.counts.failing),
                                   key=lambda r: -r.counts.failing)[:TOP],
        "top_hosts": [(hostnames.get(h, f"host #{h}"), n) for h, n in collector.failing_by_host.most_common(TOP)],
        "expiring": _expiring(posture),
        "exceptions": list(exceptions.values()),
        "evidence": list(evidence.values()),
        "snapshots": snapshot_rows,
        "catalogs": catalogs,
        "engine_versions": sources.engine_versions(posture.snapshot_ids),
        "findings_rows": rows,
        "checks": CHECKS_BY_CONTROL,
        "is_benchmark": framework.slug == BENCHMARK,
    }
    pack = [
        pack_file(findings_path, "findings.csv", "Every failing, excepted, attested, manual and error target of every "
                  "requirement, one per line, in the drill-down's order", rows),
        pack_file(posture_path, "posture.json", "The posture exactly as GET /api/v1/posture/{slug}/ returns it"),
    ]
    manifest = {
        "framework": {"slug": framework.slug, "urn": framework.urn, "name": framework.name, "version": framework.version,
                      "revision": framework.revision, "sha256": framework.sha256},
        **catalogs,
        "scope": {"selector": str(posture.selector), "hosts": len(posture.hosts), "include_stopped": posture.include_stopped},
        "as_of": posture.as_of.isoformat() if posture.as_of else None,
        "engine_versions": context["engine_versions"],
        "snapshots": sources.snapshot_manifest(snapshot_rows),
        "evidence": sources.evidence_manifest(evidence.values()),
        "exceptions": sorted(exceptions),
    }
    title = f"{framework.name} {framework.version} assessment"
    return Content(
        template="reports/pdf/framework.html", context=context, pack=pack, manifest=manifest, title=title,
        subject=f"{title} of {scope_text}, {moment}",
        keywords=[framework.name, framework.slug, "compliance", "assessment", "Docker", "CIS Docker", "Plimsoll"],
        runhead=f"{framework.name} {framework.version} · scope {scope_text} · {moment}",
        framework_revision=framework.revision,
    )


def _node_for(posture: Posture, control: str) -> RequirementPosture:
    """A requirement node carrying one control, so requirement_results reads that control's drill-down rows once."""
    node = next(r for r in posture.requirements if control in r.controls)
    return replace(node, controls=[control])


def _mapped(posture: Posture) -> dict[str, list[dict[str, Any]]]:
    """Requirement -> its mapped recommendations, those sharing relationship, rationale and provenance on one line
    (PCI DSS 2.2.1 takes every CIS recommendation for one reason: one line, not 117)."""
    if posture.framework.slug != BENCHMARK:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for ref_id, rows in sources.mappings(posture.framework).items():
            lines: dict[tuple[str, str, str], dict[str, Any]] = {}
            for row in sorted(rows, key=lambda r: ref_key(r["source__ref_id"])):
                key = (row["relationship"], row["rationale"], row["provenance"])
                line = lines.setdefault(key, {**row, "controls": []})
                line["controls"].append(row["source__ref_id"])
            grouped[ref_id] = list(lines.values())
        return grouped
    # CIS Docker assessed against itself: each recommendation is its own check.
    return {r.ref_id: [{"source__ref_id": r.ref_id, "controls": [r.ref_id], "source__title": r.title, "relationship": "equal",
                        "rationale": "The recommendation itself, judged by the engine's check.", "provenance": "catalog",
                        "crosswalk__slug": ""}]
            for r in posture.requirements if r.controls}


def _moment_text(report: Report) -> str:
    if report.period_start and report.period_end:
        return f"period {report.period_start:%Y-%m-%d %H:%M} to {report.period_end:%Y-%m-%d %H:%M} UTC"
    return f"as of {report.as_of:%Y-%m-%d %H:%M} UTC" if report.as_of else "as of now"


def _formulas(summary: Any) -> list[dict[str, Any]]:
    covered = summary.assessable - summary.not_covered
    rows = []
    for label, numerator, denominator, text in (
        ("Passing, of assessable requirements", summary.passing, summary.assessable, "passing / assessable"),
        ("Passing, of requirements Docker evidence covers", summary.passing, covered,
         "passing / (assessable − not covered)"),
        ("Failing, of requirements Docker evidence covers", summary.failing, covered, "failing / (assessable − not covered)"),
        ("Needing evidence, of requirements Docker evidence covers", summary.needs_evidence, covered,
         "needs evidence / (assessable − not covered)"),
    ):
        share = f"{100 * numerator / denominator:.1f} %" if denominator else "n/a (nothing to divide by)"
        rows.append({"label": label, "formula": f"{text} = {numerator} / {denominator}", "share": share})
    return rows


def _trend(report: Report, posture: Posture) -> Any:
    end = (report.period_end or report.as_of or datetime.datetime.now(datetime.UTC)).date()
    start = report.period_start.date() if report.period_start else end - datetime.timedelta(days=TREND_DAYS)
    records = PostureRecord.objects.filter(
        framework_slug=posture.framework.slug, selector=str(posture.selector), day__gte=start, day__lte=end
    ).order_by("day")
    return trend(list(records), f"Requirements by status per day, {start:%Y-%m-%d} to {end:%Y-%m-%d}")


def _changes(before: Posture, after: Posture) -> dict[str, Any]:
    """Requirements whose status at the end of the period differs from the start, in catalog order."""
    earlier = {r.ref_id: r for r in before.requirements}
    changes = []
    for node in after.requirements:
        old = earlier.get(node.ref_id)
        if old is None or old.status != node.status or old.counts.failing != node.counts.failing:
            changes.append({"ref_id": node.ref_id, "title": node.title, "before": old.status if old else "absent",
                            "after": node.status, "failing_before": old.counts.failing if old else 0,
                            "failing_after": node.counts.failing})
    summary = [(s.label, getattr(before.summary, s.value), getattr(after.summary, s.value)) for s in RequirementStatus]
    return {"summary": summary, "requirements": changes}


def _expiring(posture: Posture) -> list[Any]:
    moment = posture.as_of or posture.judge.at
    horizon = moment + datetime.timedelta(days=EXPIRING_DAYS)
    return sorted((e for e in active_exceptions(moment) if e.expires_at <= horizon), key=lambda e: e.expires_at)

