"""What every assessment report cites: the snapshots it stands on, the catalogs and crosswalks it read, the
exceptions and evidence that changed a verdict. Each is read in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from compliance.engine import BENCHMARK
from compliance.evidence.models import Evidence
from compliance.exceptions.models import RiskAcceptance
from compliance.models import Evaluation
from frameworks.models import Crosswalk, Framework, Mapping, Requirement
from inventory.models import Snapshot


def snapshots(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Snapshot id -> host, collection time, sha256 and counts, for the appendix, the manifest and findings.csv."""
    rows = Snapshot.objects.filter(pk__in=list(ids)).values(
        "id", "host_id", "host__hostname", "collected_at", "received_at", "sha256", "container_count", "running_count",
        "image_count", "agent_version",
    )
    return {row["id"]: row for row in rows}


def engine_versions(snapshot_ids: Iterable[int]) -> list[str]:
    """The engine versions of the evaluations whose results the report shows."""
    rows = Evaluation.objects.filter(snapshot_id__in=list(snapshot_ids), is_current=True)
    return sorted(set(rows.values_list("engine_version", flat=True)))


def catalogs(framework: Framework) -> dict[str, Any]:
    """The catalog revisions and crosswalks the report read, with the sha256 of the files they were loaded from."""
    cis = Framework.objects.filter(slug=BENCHMARK, is_current=True).first()
    frameworks = {f.pk: f for f in (framework, cis) if f is not None}
    crosswalks = Crosswalk.objects.filter(is_current=True, target_framework=framework) if framework.slug != BENCHMARK \
        else Crosswalk.objects.none()
    return {
        "catalogs": [
            {"slug": f.slug, "urn": f.urn, "name": f.name, "version": f.version, "revision": f.revision, "sha256": f.sha256,
             "publisher": f.publisher, "licence": f.licence}
            for f in sorted(frameworks.values(), key=lambda f: f.slug)
        ],
        "crosswalks": [
            {"slug": c.slug, "urn": c.urn, "name": c.name, "revision": c.revision, "sha256": c.sha256, "method": c.method}
            for c in crosswalks.order_by("slug")
        ],
    }


def control_titles() -> dict[str, str]:
    rows = Requirement.objects.filter(framework__slug=BENCHMARK, framework__is_current=True)
    return dict(rows.values_list("ref_id", "title"))


def control_summaries() -> dict[str, str]:
    rows = Requirement.objects.filter(framework__slug=BENCHMARK, framework__is_current=True)
    return dict(rows.values_list("ref_id", "summary"))


def mappings(framework: Framework) -> dict[str, list[dict[str, Any]]]:
    """Requirement ref_id -> the CIS recommendations mapped to it: relationship, rationale and provenance."""
    rows = Mapping.objects.filter(target__framework=framework, crosswalk__is_current=True).values(
        "target__ref_id", "source__ref_id", "source__title", "relationship", "rationale", "provenance", "crosswalk__slug",
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["target__ref_id"], []).append(row)
    return found


def exceptions(ids: Iterable[int]) -> dict[int, RiskAcceptance]:
    rows = RiskAcceptance.objects.filter(pk__in=set(ids)).select_related(
        "requested_by", "approved_by", "revoked_by", "rejected_by", "scope_host"
    )
    return {row.pk: row for row in rows.order_by("pk")}


def evidence(ids: Iterable[int]) -> dict[int, Evidence]:
    rows = Evidence.objects.filter(pk__in=set(ids)).select_related("uploaded_by", "scope_host")
    return {row.pk: row for row in rows.order_by("pk")}


def evidence_manifest(items: Iterable[Evidence]) -> list[dict[str, Any]]:
    return [
        {"id": e.pk, "title": e.title, "kind": e.kind, "sha256": e.sha256 or None, "size_bytes": e.size_bytes,
         "collected_at": e.collected_at.isoformat(), "valid_until": e.valid_until.isoformat()}
        for e in items
    ]


def snapshot_manifest(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": s["id"], "host": s["host__hostname"], "collected_at": s["collected_at"].isoformat(), "sha256": s["sha256"]}
        for s in sorted(rows, key=lambda s: (s["host__hostname"], s["id"]))
    ]
