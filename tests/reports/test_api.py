"""POST /api/v1/reports/ (managers), list, detail and download (every role), no update or delete; each create and
download audited; a finished report is immutable."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from compliance.reports.models import Report, ReportIsImmutable

pytestmark = pytest.mark.django_db


def period() -> dict[str, str]:
    today = timezone.now().date()
    return {"period_start": (today - datetime.timedelta(days=30)).isoformat(), "period_end": today.isoformat()}


def test_a_manager_requests_and_gets_202_then_the_report_renders(carol, api_client_for, catalogs,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(carol).post("/api/v1/reports/", {"kind": "evidence", **period()}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "url"} and body["status"] == "queued"
    report = Report.objects.get(pk=body["id"])
    assert report.status == "done" and report.requested_by == carol and len(report.sha256) == 64
    detail = api_client_for(carol).get(body["url"]).json()
    assert detail["sha256"] == report.sha256 and detail["progress"] == 100 and detail["download_url"]
    events = AuditEvent.objects.filter(object_id=str(report.pk), content_type__model="report").order_by("id")
    assert [e.action for e in events] == ["create", "change"] and events[1].changes["sha256"] == [None, report.sha256]


def test_an_auditor_lists_and_downloads_but_cannot_create(bob, carol, api_client_for, catalogs, make_report):
    report = make_report(carol, kind="exceptions", **period())
    client = api_client_for(bob)
    assert client.post("/api/v1/reports/", {"kind": "evidence", **period()}, format="json").status_code == 403
    listed = client.get("/api/v1/reports/").json()
    assert [r["id"] for r in listed["results"]] == [report.pk]
    response = client.get(f"/api/v1/reports/{report.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and f"report-{report.pk}.pdf" in disposition and "exceptions" in disposition
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    download = AuditEvent.objects.get(action="download", object_id=str(report.pk))
    assert download.actor == bob and download.changes["sha256"] == [None, report.sha256]


def test_anonymous_gets_401_and_no_role_403(charlie, api_client_for, catalogs):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/reports/").status_code == 401
    assert anonymous.post("/api/v1/reports/", {"kind": "evidence"}, format="json").status_code == 401
    assert api_client_for(charlie).get("/api/v1/reports/").status_code == 403


def test_there_is_no_update_or_delete(carol, alice, api_client_for, catalogs, make_report):
    report = make_report(carol, kind="exceptions", **period())
    client = api_client_for(alice)
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/v1/reports/{report.pk}/", {}, format="json").status_code == 405
    report.refresh_from_db()
    report.scope = "changed"
    with pytest.raises(ReportIsImmutable):
        report.save()
    with pytest.raises(ReportIsImmutable):
        report.delete()
    with pytest.raises(ReportIsImmutable):
        Report.objects.all().delete()
    assert Report.objects.filter(pk=report.pk).update(sha256="0" * 64) == 0
    assert Report.objects.get(pk=report.pk).sha256 == report.sha256
    request = RequestFactory().get("/admin/")
    request.user = alice
    admin = site._registry[Report]
    assert not admin.has_change_permission(request, report) and not admin.has_delete_permission(request, report)
    assert not admin.has_add_permission(request)


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "poster"}, "kind"),
    ({"kind": "framework"}, "framework"),
    ({"kind": "framework", "framework": "iso-27001"}, "framework"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "scope": "a=b=c"}, "scope"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "as_of": "last tuesday"}, "as_of"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "as_of": "2099-01-01"}, "as_of"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "period_start": "2026-11-05", "period_end": "2026-11-01"}, "period_end"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "period_start": "2026-11-05"}, "period_end"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "host": "web-01"}, "host"),
    ({"kind": "hardening", "host": "no-such-host"}, "host"),
    ({"kind": "hardening", "period_start": "2026-11-01", "period_end": "2026-11-02"}, "period_start"),
    ({"kind": "exceptions"}, "period_start"),
    ({"kind": "evidence", "framework": "pci-dss-4.0", "period_start": "2026-11-01", "period_end": "2026-11-02"}, "framework"),
    ({"kind": "framework", "framework": "pci-dss-4.0", "include_stopped": "maybe"}, "include_stopped"),
])
def test_bad_parameters_get_400_naming_the_field(carol, api_client_for, catalogs, params, field):
    response = api_client_for(carol).post("/api/v1/reports/", params, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid" and field in response.json()["detail"]
    assert not Report.objects.exists()
