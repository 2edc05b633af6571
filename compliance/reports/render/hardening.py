"""The host hardening report: every CIS Docker v1.6.0 recommendation for one host or a scope, every target (passing
ones too), with what the recommendation asks, how the engine checks it, and every target's verdict from the judge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rest_framework.renderers import JSONRenderer

from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL
from compliance.models import STOPPED, Result
from compliance.posture.judge import Judge
from compliance.posture.serializers import PostureSerializer
from compliance.posture.services import Posture, ScopedHost, compute_posture, ref_key
from compliance.reports.models import Report
from compliance.reports.render import Content, Progress, pack_file, sources
from compliance.reports.render.findings import VALUE_FIELDS, ControlFindings, FindingsCollector, with_evidence_text
from frameworks.services import current_framework
from inventory.labels import labels_at
from inventory.models import Snapshot


@dataclass
class Recommendation:
    ref_id: str
    title: str
    depth: int
    assessable: bool
    anchor: str
    summary: str
    rule: str
    kind: str
    status: str | None
    findings: ControlFindings | None

    @property
    def level(self) -> int:
        return min(self.depth + 1, 6)


def build(report: Report, workdir: Path, progress: Progress) -> Content:
    framework = current_framework(BENCHMARK)
    progress(5, "Reading the hosts in scope")
    posture: Posture | None = None
    if report.host_id:
        host = report.host
        judge = Judge.at(report.as_of, report.include_stopped)
        labels = labels_at(report.as_of).get(host.pk, {})
        standing = Snapshot.objects.standing(report.as_of).filter(host_id=host.pk).values_list("pk", flat=True).first()
        hosts = [ScopedHost(host.pk, host.hostname, host.machine_id, labels, standing)]
        scope_text = f"host {host.hostname}"
    else:
        posture = compute_posture(BENCHMARK, report.scope, report.as_of, report.include_stopped)
        judge, hosts = posture.judge, posture.hosts
        scope_text = str(posture.selector) or "all hosts"
    snapshot_ids = [h.snapshot_id for h in hosts if h.snapshot_id]
    snapshots = sources.snapshots(snapshot_ids)
    titles = sources.control_titles()
    collector = FindingsCollector(workdir, judge, hosts, snapshots, titles)

    catalog = list(framework.requirements.order_by("order").values("ref_id", "title", "summary", "depth", "assessable"))
    controls = sorted((r["ref_id"] for r in catalog if r["assessable"]), key=ref_key)
    for index, control in enumerate(controls):
        progress(10 + 45 * index // max(len(controls), 1), f"Judging every target of CIS {control}")
        rows = with_evidence_text(Result.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control=control))
        collector.collect(control, rows.order_by("host__hostname", "target_kind", "target_name", "id")
                          .values_list(*VALUE_FIELDS).iterator(chunk_size=2000))
    findings_path = workdir / "findings.csv"
    rows_written = collector.write_csv(findings_path, (((), [c]) for c in controls), [])
    collector.close()

    stopped = Result.objects.filter(is_current=True, snapshot_id__any=snapshot_ids).filter(STOPPED).count() \
        if snapshot_ids else 0
    recommendations = []
    for node in catalog:
        check = CHECKS_BY_CONTROL.get(node["ref_id"])
        found = collector.by_control.get(node["ref_id"])
        requirement = posture.requirement(node["ref_id"]) if posture is not None else None
        recommendations.append(Recommendation(
            ref_id=node["ref_id"], title=node["title"], depth=node["depth"], assessable=node["assessable"],
            anchor="rec-" + node["ref_id"].replace(".", "-"), summary=node["summary"], rule=check.rule if check else "",
            kind=str(check.kind) if check else "", status=requirement.status if requirement else None,
            findings=found if found and found.rows else None,
        ))
    exceptions = sources.exceptions(collector.exception_ids)
    evidence = sources.evidence(collector.evidence_ids)
    catalogs = sources.catalogs(framework)
    snapshot_rows = sorted(snapshots.values(), key=lambda s: (s["host__hostname"], s["id"]))
    moment = f"as of {report.as_of:%Y-%m-%d %H:%M} UTC" if report.as_of else "as of now"
    pack = [pack_file(findings_path, "findings.csv", "Every target of every CIS Docker recommendation with its verdict, "
                      "one per line", rows_written)]
    if posture is not None:
        posture_path = workdir / "posture.json"
        posture_path.write_bytes(JSONRenderer().render(PostureSerializer.from_posture(posture)))
        pack.append(pack_file(posture_path, "posture.json", "The CIS Docker posture of the scope as the API returns it"))
    context: dict[str, Any] = {
        "framework": framework, "posture": posture, "recommendations": recommendations, "scope_text": scope_text,
        "moment_text": moment, "host": report.host if report.host_id else None, "hosts": hosts,
        "unjudged": [h for h in hosts if not h.snapshot_id], "snapshots": snapshot_rows, "catalogs": catalogs,
        "engine_versions": sources.engine_versions(snapshot_ids), "exceptions": list(exceptions.values()),
        "evidence": list(evidence.values()), "findings_rows": rows_written, "stopped_targets": stopped,
        "include_stopped": judge.include_stopped,
        "totals": {
            "hosts": len(hosts), "judged": len(snapshot_ids),
            "running": sum(s["running_count"] for s in snapshots.values()),
            "images": sum(s["image_count"] for s in snapshots.values()),
        },
    }
    manifest = {
        "framework": {"slug": framework.slug, "urn": framework.urn, "name": framework.name, "version": framework.version,
                      "revision": framework.revision, "sha256": framework.sha256},
        **catalogs,
        "scope": {"selector": report.scope, "host": report.host.hostname if report.host_id else None, "hosts": len(hosts)},
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "engine_versions": context["engine_versions"],
        "snapshots": sources.snapshot_manifest(snapshot_rows),
        "evidence": sources.evidence_manifest(evidence.values()),
        "exceptions": sorted(exceptions),
    }
    title = f"Host hardening: {framework.name} {framework.version}"
    return Content(
        template="reports/pdf/hardening.html", context=context, pack=pack, manifest=manifest, title=title,
        subject=f"{title} for {scope_text}, {moment}",
        keywords=["CIS Docker", "hardening", "Docker", framework.slug, "Plimsoll"],
        runhead=f"{framework.name} {framework.version} hardening · {scope_text} · {moment}",
        framework_revision=framework.revision,
    )
