"""The render task: progress, retries on transient errors, no half report when a worker dies, failures explained."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from compliance.reports import services
from compliance.reports.models import Report
from compliance.reports.tasks import render_report

pytestmark = pytest.mark.django_db


def params() -> dict[str, str]:
    today = timezone.now().date()
    return {"kind": "exceptions", "period_start": (today - datetime.timedelta(days=7)).isoformat(),
            "period_end": today.isoformat()}


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "reports"
    return [p for p in root.rglob("*") if p.is_file() and ".partial" not in p.parts] if root.exists() else []


def test_a_transient_error_is_retried_and_the_report_rendered_once(carol, catalogs, make_report, monkeypatch):
    from compliance.reports import signing

    real = signing.sign_pdf
    calls = []

    def flaky(source, target):  # type: ignore[no-untyped-def]
        calls.append(source)
        if len(calls) == 1:
            raise OSError("storage hiccup")
        real(source, target)

    monkeypatch.setattr(signing, "sign_pdf", flaky)
    report = make_report(carol, **params())
    assert report.status == "done" and report.attempts == 2 and len(calls) == 2
    assert [p.name for p in stored_files()] == [f"report-{report.pk}.pdf"]


def test_a_worker_killed_mid_render_leaves_no_report_and_the_retry_renders_it(carol, catalogs, monkeypatch,
                                                                             django_capture_on_commit_callbacks):
    from compliance.reports import render

    real = render.write_pdf

    def dies(html, pack, target):  # type: ignore[no-untyped-def]
        target.write_bytes(b"%PDF-1.7 half a report")
        raise SystemExit("worker killed")

    monkeypatch.setattr(render, "write_pdf", dies)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.request_report(by=carol, **params())
    assert len(callbacks) == 1
    with pytest.raises(SystemExit):
        render_report.apply(args=[report.pk])
    report.refresh_from_db()
    assert report.status == "running" and not report.file and stored_files() == []

    monkeypatch.setattr(render, "write_pdf", real)
    render_report.apply(args=[report.pk])  # the broker delivers the unacknowledged message again
    report.refresh_from_db()
    assert report.status == "done" and report.attempts == 2 and len(stored_files()) == 1


def test_a_permanent_error_fails_the_report_with_its_reason(carol, catalogs, make_report, monkeypatch):
    from compliance.reports.render import registers

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("the register template is missing a field")

    monkeypatch.setattr(registers, "build_exceptions", broken)
    report = make_report(carol, **params())
    assert report.status == "failed" and "missing a field" in report.error and report.finished_at
    assert stored_files() == []


def test_progress_moves_while_rendering(carol, catalogs, make_report, monkeypatch):
    seen: list[tuple[int, str]] = []
    real = services.set_progress

    def spy(report_id, percent, stage):  # type: ignore[no-untyped-def]
        real(report_id, percent, stage)
        seen.append(Report.objects.values_list("progress", "stage").get(pk=report_id))

    monkeypatch.setattr(services, "set_progress", spy)
    report = make_report(carol, **params())
    assert report.progress == 100 and report.stage == "Done"
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] >= 90 and any("Laying out" in s for _, s in seen)


def test_retention_deletes_old_reports_and_their_files_only_when_set(carol, catalogs, make_report, settings):
    from audit.models import AuditEvent

    report = make_report(carol, **params())
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))  # no-op: done
    assert Report.objects.get(pk=report.pk).created_at > timezone.now() - datetime.timedelta(days=1)
    settings.PLIMSOLL_REPORT_RETENTION_DAYS = 0
    later = timezone.now() + datetime.timedelta(days=40)
    assert services.prune_expired_reports(later) == 0 and Report.objects.filter(pk=report.pk).exists()
    settings.PLIMSOLL_REPORT_RETENTION_DAYS = 30
    assert services.prune_expired_reports(later) == 1
    assert not Report.objects.filter(pk=report.pk).exists() and stored_files() == []
    assert AuditEvent.objects.filter(action="delete", object_id=str(report.pk)).exists()
