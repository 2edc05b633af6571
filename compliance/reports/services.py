"""Report verbs: request a report (validated, audited, queued on commit), render it (the task's body), record a
download, and prune expired reports when retention is on.

A report never decides a status: every status in it comes from compliance.posture (compute_posture and the judge).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.choices import AuditAction
from audit.services import created, field_values, record
from common.roles import can_manage, can_read
from common.scope import SelectorError, parse_selector
from compliance.administration.limits import report_allowed
from compliance.engine import BENCHMARK
from compliance.reports.choices import GENERATOR_VERSION, ReportKind, ReportStatus
from compliance.reports.models import Report
from frameworks.models import Framework
from frameworks.services import current_framework
from inventory.models import Host, Snapshot

logger = logging.getLogger(__name__)

# How far ahead of the server's clock a moment may be (clock skew); later than that is a mistake.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
AUDITED_FIELDS = ["kind", "framework_slug", "framework_revision", "scope", "host", "include_stopped", "as_of",
                  "period_start", "period_end", "generator_version"]


class ReportError(ValueError):
    """A report request that cannot be made; `field` names the parameter (400 at the API, a form error on pages)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotPermitted(Exception):
    """The user's role does not allow this (403 at the edge)."""


def parse_moment(value: Any, field: str, *, end_of_day: bool = True) -> datetime.datetime | None:
    """An RFC 3339 time, or a date: its end (for as_of and period ends) or its start (for period starts), in UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time.max if end_of_day else datetime.time.min)
    else:
        text = str(value).strip()
        try:
            # A bare date first: parse_datetime reads "2026-11-30" as its midnight, not as the day it names.
            day = parse_date(text) if len(text) == 10 else None
            moment = parse_datetime(text) if day is None else None
        except ValueError:
            raise ReportError(field, f"not a real date or time: {text!r}") from None
        if moment is None:
            if day is None:
                raise ReportError(field, f"expected a date (2026-11-30) or an RFC 3339 time, got {text!r}")
            moment = datetime.datetime.combine(day, datetime.time.max if end_of_day else datetime.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment


def _framework_for(kind: str, slug: str) -> Framework | None:
    if kind == ReportKind.FRAMEWORK:
        if not slug:
            raise ReportError("framework", "a framework assessment names a framework, e.g. pci-dss-4.0")
        try:
            return current_framework(slug)
        except Framework.DoesNotExist:
            raise ReportError("framework", f"no loaded framework {slug!r}") from None
    if kind == ReportKind.HARDENING:
        if slug and slug != BENCHMARK:
            raise ReportError("framework", f"a hardening report is always against {BENCHMARK}")
        try:
            return current_framework(BENCHMARK)
        except Framework.DoesNotExist:
            raise ReportError("framework", f"the {BENCHMARK} catalog is not loaded (manage.py load_frameworks)") from None
    if slug:
        raise ReportError("framework", "a register is not per framework; leave framework empty")
    return None


def _host(value: Any) -> Host:
    """A host by id (or by hostname, for people typing in a form)."""
    if isinstance(value, Host):
        return value
    text = str(value).strip()
    found = Host.objects.filter(pk=int(text)).first() if text.isdigit() else None
    found = found or Host.objects.filter(hostname=text).order_by("id").first()
    if found is None:
        raise ReportError("host", f"no host {text!r}")
    return found


def validate_request(params: dict[str, Any], now: datetime.datetime | None = None) -> dict[str, Any]:
    """The model fields of a valid request, or ReportError naming the first wrong parameter."""
    now = now or timezone.now()
    kind = str(params.get("kind") or "")
    if kind not in ReportKind.values:
        raise ReportError("kind", f"expected one of {', '.join(ReportKind.values)}, got {kind!r}")
    framework = _framework_for(kind, str(params.get("framework") or "").strip())
    scope = str(params.get("scope") or "").strip()
    try:
        scope = str(parse_selector(scope))
    except SelectorError as exc:
        raise ReportError("scope", str(exc)) from None
    host = params.get("host")
    if host in ("", None):
        host = None
    elif kind != ReportKind.HARDENING:
        raise ReportError("host", "only a hardening report is for one host")
    elif scope:
        raise ReportError("host", "give a host or a scope, not both")
    else:
        host = _host(host)
    if scope and kind in (ReportKind.EXCEPTIONS, ReportKind.EVIDENCE):
        raise ReportError("scope", "a register covers every exception or evidence; leave scope empty")

    as_of = parse_moment(params.get("as_of"), "as_of")
    start = parse_moment(params.get("period_start"), "period_start", end_of_day=False)
    end = parse_moment(params.get("period_end"), "period_end")
    for name, moment in (("as_of", as_of), ("period_start", start), ("period_end", end)):
        # Today's date means its end: a moment later today is read as now; a later day is a mistake.
        if moment is not None and moment > now + FUTURE_TOLERANCE and moment.date() > now.date():
            raise ReportError(name, "is in the future; a report states what was, not what will be")
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise ReportError(missing, "a period has a start and an end")
    if start is not None and end is not None:
        if end <= start:
            raise ReportError("period_end", "the period ends before it starts")
        if start > now:
            raise ReportError("period_start", "the period starts in the future")
        if as_of is not None:
            raise ReportError("as_of", "give an as-of moment or a period, not both")
        if kind == ReportKind.HARDENING:
            raise ReportError("period_start", "a hardening report is as of one moment, not over a period")
    elif kind in (ReportKind.EXCEPTIONS, ReportKind.EVIDENCE):
        raise ReportError("period_start", "a register covers a period: give period_start and period_end")
    # A moment later than now (today's date means its end) is read as now, so the report states a moment that was.
    moment = min(end or as_of or now, now)
    include_stopped = params.get("include_stopped")
    if include_stopped in ("", None):
        include_stopped = None
    elif not isinstance(include_stopped, bool):
        text = str(include_stopped).lower()
        if text not in {"1", "true", "yes", "0", "false", "no"}:
            raise ReportError("include_stopped", f"expected true or false, got {include_stopped!r}")
        include_stopped = text in {"1", "true", "yes"}
    return {
        "kind": kind,
        "framework_slug": framework.slug if framework else "",
        "framework_urn": framework.urn if framework else "",
        "framework_revision": framework.revision if framework else None,
        "scope": scope,
        "host": host,
        "include_stopped": include_stopped,
        "as_of": moment,
        "period_start": start,
        "period_end": min(end, now) if end else None,
    }


def request_report(*, by: Any, request: HttpRequest | None = None, **params: Any) -> Report:
    """Validate, store and audit a report request, and queue its rendering once the transaction commits."""
    if not can_manage(by):
        raise NotPermitted("only security managers and admins request reports")
    fields = validate_request(params)
    host = fields["host"]
    if not report_allowed(by, fields["kind"], fields["framework_slug"], fields["scope"], host.pk if host else None):
        raise NotPermitted("this account's limits do not cover this report (its frameworks and label scope)")
    with transaction.atomic():
        report = Report.objects.create(requested_by=by, **fields)
        record(AuditAction.CREATE, report, actor=by, request=request,
               changes=created(field_values(report, AUDITED_FIELDS)))
        transaction.on_commit(lambda: enqueue(report.pk), robust=True)
    return report


def enqueue(report_id: int) -> None:
    from compliance.reports.tasks import render_report

    render_report.delay(report_id)


_last_progress: dict[int, tuple[int, float]] = {}


def set_progress(report_id: int, percent: int, stage: str) -> None:
    """Progress the page's bar shows, written outside any transaction so readers see it while the render goes on;
    at most one write a second unless the percentage moves by 5 or more."""
    percent = max(0, min(percent, 99))
    last_percent, last_time = _last_progress.get(report_id, (-100, 0.0))
    now = time.monotonic()
    if percent - last_percent < 5 and now - last_time < 1:
        return
    _last_progress[report_id] = (percent, now)
    Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(progress=percent, stage=stage[:200])


def render_report(report_id: int) -> str:
    """Render, sign, hash and store one report; idempotent: a done report is left alone, a running one starts over.

    The PDF is written to a temporary file and moved into place only when complete and signed, so a worker killed
    mid-render leaves no half report, and the retry renders it again from the start.
    """
    from compliance.reports.render import render_to_file
    from compliance.reports.signing import sign_pdf

    report = Report.objects.select_related("requested_by", "host").filter(pk=report_id).first()
    if report is None or report.status == ReportStatus.DONE:
        return "gone" if report is None else "done already"
    Report.objects.filter(pk=report_id).update(
        status=ReportStatus.RUNNING, started_at=timezone.now(), progress=1, stage="Starting", error="",
        attempts=report.attempts + 1,
    )
    workdir = Path(tempfile.mkdtemp(prefix=f"report-{report_id}-", dir=temp_dir()))
    try:
        rendered = render_to_file(report, workdir, lambda pct, stage: set_progress(report_id, pct, stage))
        set_progress(report_id, 96, "Signing (PAdES)")
        signed = workdir / "signed.pdf"
        sign_pdf(rendered.path, signed)
        digest, size = _sha256(signed)
        set_progress(report_id, 98, "Storing")
        name = _store(report, signed)
        with transaction.atomic():
            updated = Report.objects.filter(pk=report_id).update(
                status=ReportStatus.DONE, progress=100, stage="Done", file=name, sha256=digest, size_bytes=size,
                pages=rendered.pages, manifest_sha256=rendered.manifest_sha256, finished_at=timezone.now(),
                framework_revision=rendered.framework_revision, generator_version=GENERATOR_VERSION,
            )
            if updated:
                record(AuditAction.CHANGE, report, object_repr=str(report), changes={
                    "status": [ReportStatus.RUNNING, ReportStatus.DONE], "sha256": [None, digest],
                    "size_bytes": [None, size], "pages": [None, rendered.pages],
                    "manifest_sha256": [None, rendered.manifest_sha256],
                })
    finally:
        _last_progress.pop(report_id, None)
        shutil.rmtree(workdir, ignore_errors=True)
    return digest


def fail_report(report_id: int, error: BaseException | str) -> None:
    """Mark a report failed with a reason people can act on (no traceback: it is in the worker's log)."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    with transaction.atomic():
        updated = Report.objects.filter(pk=report_id).update(
            status=ReportStatus.FAILED, error=text[:2000], stage="Failed", finished_at=timezone.now()
        )
        report = Report.objects.filter(pk=report_id).first()
        if updated and report is not None:
            record(AuditAction.CHANGE, report, changes={"status": [ReportStatus.RUNNING, ReportStatus.FAILED],
                                                         "error": [None, text[:300]]})


def temp_dir() -> Path:
    """Where renders in progress live: under MEDIA_ROOT when storage is the file system, so the final move is a rename
    on one file system (atomic), else under VAR_DIR."""
    base = Path(default_storage.location) / "reports" / ".partial" if isinstance(default_storage, FileSystemStorage) \
        else Path(settings.VAR_DIR) / "report-partial"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _store(report: Report, signed: Path) -> str:
    name = report.file.field.generate_filename(report, "report.pdf")
    if isinstance(default_storage, FileSystemStorage):
        target = Path(default_storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(signed, target)  # atomic: the file at `name` is whole or absent
        return name
    with signed.open("rb") as handle:
        return default_storage.save(name, File(handle))


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def chain_heads(snapshot_ids: Any) -> list[dict[str, Any]]:
    """The hash-chain heads a report used, for its manifest: per host, the snapshot the report stands on (its sha256
    and the previous_sha256 it chains to) and the host's newest snapshot when the report was made (docs/storage.md,
    "Hash chain"). Anyone holding the report can walk the host's chain back from `sha256`, or from `head_sha256`
    down to it, and so prove the snapshot used is the one the chain holds; `newer` counts the snapshots the host
    sent after it (ingest order). One query whatever the number of hosts."""
    ids = sorted({int(i) for i in snapshot_ids})
    if not ids:
        return []
    newest = Snapshot.objects.filter(host=OuterRef("host_id")).order_by("-id")
    after = (Snapshot.objects.filter(host=OuterRef("host_id"), id__gt=OuterRef("id")).order_by().values("host")
             .annotate(n=Count("id")).values("n"))
    rows = (Snapshot.objects.filter(pk__in=ids)
            .annotate(head_sha256=Subquery(newest.values("sha256")[:1]), newer=Coalesce(Subquery(after[:1]), 0))
            .values("id", "host_id", "host__hostname", "collected_at", "sha256", "previous_sha256", "head_sha256",
                    "newer"))
    return [
        {"host": r["host__hostname"], "host_id": r["host_id"], "snapshot": r["id"],
         "collected_at": r["collected_at"].isoformat(), "sha256": r["sha256"],
         "previous_sha256": r["previous_sha256"] or None, "head_sha256": r["head_sha256"], "newer": r["newer"]}
        for r in sorted(rows, key=lambda r: (r["host__hostname"], r["id"]))
    ]


def record_download(report: Report, *, by: Any, request: HttpRequest | None = None) -> None:
    if not can_read(by):
        raise NotPermitted("your role does not allow downloading reports")
    record(AuditAction.DOWNLOAD, report, actor=by, request=request, changes={"sha256": [None, report.sha256]})


def prune_expired_reports(now: datetime.datetime | None = None) -> int:
    """Delete finished or failed reports older than PLIMSOLL_REPORT_RETENTION_DAYS (0 keeps every report)."""
    days = int(getattr(settings, "PLIMSOLL_REPORT_RETENTION_DAYS", 0))
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    expired = Report.objects.filter(created_at__lt=cutoff, status__in=[ReportStatus.DONE, ReportStatus.FAILED])
    count = 0
    for report in expired.iterator():
        with transaction.atomic():
            record(AuditAction.DELETE, report, changes={"sha256": [report.sha256, None], "retention_days": [None, days]})
            Report.objects.filter(pk=report.pk).prune_expired()
        if report.file:
            report.file.storage.delete(report.file.name)
        count += 1
    return count
