"""The registers: every risk acceptance valid or decided in a period, and every piece of evidence valid or uploaded in
it, each with its history from the audit trail."""

from __future__ import annotations

import csv
import datetime
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q

from audit.models import AuditEvent
from common.csv import csv_cell
from compliance.evidence.models import Evidence
from compliance.exceptions.models import RiskAcceptance
from compliance.reports.models import Report
from compliance.reports.render import Content, Progress, pack_file, sources
from frameworks.models import Requirement


def _history(model: type, ids: list[int], end: datetime.datetime) -> dict[int, list[AuditEvent]]:
    """Object id -> its audit events up to the period's end, oldest first (one query)."""
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids], timestamp__lte=end
    ).order_by("timestamp", "id")
    found: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        found[int(event.object_id)].append(event)
    return found


def _history_text(events: list[AuditEvent]) -> str:
    return "; ".join(f"{e.timestamp:%Y-%m-%d %H:%M} {e.actor_username or 'system'} {e.action}"
                     f"{' (' + ', '.join(sorted(e.changes)) + ')' if e.changes else ''}" for e in events)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])


def _period_text(report: Report) -> str:
    return f"{report.period_start:%Y-%m-%d %H:%M} to {report.period_end:%Y-%m-%d %H:%M} UTC"


def build_exceptions(report: Report, workdir: Path, progress: Progress) -> Content:
    start, end = report.period_start, report.period_end
    progress(10, "Reading the risk acceptances")
    valid = Q(approved_at__isnull=False, approved_at__lte=end, expires_at__gt=start) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=start))
    decided = Q(approved_at__range=(start, end)) | Q(rejected_at__range=(start, end)) | Q(revoked_at__range=(start, end))
    rows = list(RiskAcceptance.objects.filter(valid | decided).select_related(
        "requested_by", "approved_by", "rejected_by", "revoked_by", "scope_host").order_by("control", "pk"))
    history = _history(RiskAcceptance, [r.pk for r in rows], end)
    titles = sources.control_titles()
    entries = [{"item": r, "status": r.status_at(end), "history": history.get(r.pk, []),
                "title": titles.get(r.control, "")} for r in rows]
    header = ["id", "control", "control_title", "scope", "status_at_period_end", "risk_rating", "requested_by",
              "requested_at", "approved_by", "approved_at", "expires_at", "rejected_by", "rejected_at", "revoked_by",
              "revoked_at", "justification", "compensating_controls", "decision_note", "revocation_reason", "history"]
    csv_rows = [[
        r.pk, r.control, e["title"], r.scope_display, e["status"], r.risk_rating, _user(r.requested_by),
        _iso(r.requested_at), _user(r.approved_by), _iso(r.approved_at), _iso(r.expires_at), _user(r.rejected_by),
        _iso(r.rejected_at), _user(r.revoked_by), _iso(r.revoked_at), r.justification, r.compensating_controls,
        r.decision_note, r.revocation_reason, _history_text(e["history"]),
    ] for e in entries for r in [e["item"]]]
    path = workdir / "exceptions.csv"
    _write_csv(path, header, csv_rows)
    counts: dict[str, int] = defaultdict(int)
    for e in entries:
        counts[e["status"]] += 1
    title = "Exceptions register"
    period = _period_text(report)
    return Content(
        template="reports/pdf/exceptions.html",
        context={"entries": entries, "counts": dict(sorted(counts.items())), "period_text": period},
        pack=[pack_file(path, "exceptions.csv", "Every risk acceptance in the register, with its history", len(csv_rows))],
        manifest={"period": {"start": start.isoformat(), "end": end.isoformat()},
                  "exceptions": [r.pk for r in rows]},
        title=title, subject=f"{title}: risk acceptances valid or decided, {period}",
        keywords=["exceptions", "risk acceptance", "register", "CIS Docker", "Plimsoll"],
        runhead=f"{title} · {period}",
    )


def build_evidence(report: Report, workdir: Path, progress: Progress) -> Content:
    start, end = report.period_start, report.period_end
    progress(10, "Reading the evidence")
    attached = Prefetch("requirements", queryset=Requirement.objects.select_related("framework").order_by(
        "framework__slug", "order"))
    valid = Q(collected_at__lt=end, valid_until__gt=start)
    rows = list(Evidence.objects.filter(uploaded_at__lte=end).filter(valid | Q(uploaded_at__gte=start)).select_related(
        "uploaded_by", "scope_host").prefetch_related(attached).order_by("pk"))
    history = _history(Evidence, [e.pk for e in rows], end)
    entries = [{"item": e, "valid_at_end": e.is_valid_at(end), "history": history.get(e.pk, []),
                "attests": [f"{r.framework.slug}:{r.ref_id}" for r in e.requirements.all()]} for e in rows]
    header = ["id", "title", "kind", "original_name", "content_type", "size_bytes", "sha256", "url", "scope", "attests",
              "collected_at", "valid_until", "valid_at_period_end", "uploaded_by", "uploaded_at", "description", "history"]
    csv_rows = [[
        e.pk, e.title, e.kind, e.original_name, e.content_type, e.size_bytes, e.sha256, e.url, e.scope_display,
        " ".join(entry["attests"]), _iso(e.collected_at), _iso(e.valid_until), entry["valid_at_end"],
        _user(e.uploaded_by), _iso(e.uploaded_at), e.description, _history_text(entry["history"]),
    ] for entry in entries for e in [entry["item"]]]
    path = workdir / "evidence.csv"
    _write_csv(path, header, csv_rows)
    title = "Evidence register"
    period = _period_text(report)
    return Content(
        template="reports/pdf/evidence.html",
        context={"entries": entries, "period_text": period,
                 "valid_count": sum(1 for e in entries if e["valid_at_end"])},
        pack=[pack_file(path, "evidence.csv", "Every piece of evidence in the register, with its history", len(csv_rows))],
        manifest={"period": {"start": start.isoformat(), "end": end.isoformat()},
                  "evidence": sources.evidence_manifest(rows)},
        title=title, subject=f"{title}: evidence valid or uploaded, {period}",
        keywords=["evidence", "register", "attestation", "Plimsoll"],
        runhead=f"{title} · {period}",
    )


def _user(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _iso(value: datetime.datetime | None) -> str:
    return value.isoformat() if value else ""
