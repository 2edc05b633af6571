"""/reports/: the form (managers), the list with progress and sha256 (every role), one report, the download."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from compliance.reports.models import Report

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_requests_a_report_from_the_form(carol, catalogs, django_capture_on_commit_callbacks):
    today = timezone.now().date()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(carol).post("/reports/", {
            "kind": "exceptions", "framework": "pci-dss-4.0", "period_start": (today - datetime.timedelta(days=3)).isoformat(),
            "period_end": today.isoformat(),
        })
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.kind == "exceptions" and report.framework_slug == "" and report.status == "done"
    page = client_for(carol).get("/reports/")
    assert report.sha256 in page.content.decode() and f"/reports/{report.pk}/download/" in page.content.decode()
    assert "plimsoll/reports.js" in page.content.decode() and "<script>" not in page.content.decode()


def test_the_form_says_which_field_is_wrong(carol, catalogs):
    response = client_for(carol).post("/reports/", {"kind": "framework", "framework": "pci-dss-4.0", "scope": "a=b=c"})
    assert response.status_code == 400
    assert "a=b=c" in response.content.decode() and 'class="error"' in response.content.decode()
    assert not Report.objects.exists()


def test_posture_links_prefill_the_form(carol, catalogs):
    page = client_for(carol).get("/reports/", {"framework": "hipaa-security-rule", "scope": "pci=cde", "as_of": "2026-11-02"})
    html = page.content.decode()
    assert 'value="pci=cde"' in html and 'value="2026-11-02"' in html
    assert '<option value="hipaa-security-rule" selected>' in html and '<option value="framework" selected>' in html


def test_an_auditor_sees_the_list_without_the_form_and_downloads(bob, carol, catalogs, make_report):
    today = timezone.now().date()
    report = make_report(carol, kind="evidence", period_start=(today - datetime.timedelta(days=3)).isoformat(),
                         period_end=today.isoformat())
    client = client_for(bob)
    page = client.get("/reports/").content.decode()
    assert "Request report" not in page and report.sha256 in page
    assert client.post("/reports/", {"kind": "evidence"}).status_code == 403
    detail = client.get(f"/reports/{report.pk}/").content.decode()
    assert report.sha256 in detail and report.manifest_sha256 in detail
    response = client.get(f"/reports/{report.pk}/download/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="download", object_id=str(report.pk), actor=bob).exists()


def test_a_queued_report_shows_a_progress_bar(carol, catalogs):
    report = Report.objects.create(kind="evidence", requested_by=carol, status="running", progress=40, stage="Laying out")
    html = client_for(carol).get("/reports/").content.decode()
    assert '<progress max="100" value="40"' in html and f'data-report-url="/api/v1/reports/{report.pk}/"' in html


def test_the_list_costs_a_fixed_number_of_queries(carol, catalogs, django_assert_max_num_queries):
    for _ in range(30):
        Report.objects.create(kind="evidence", requested_by=carol)
    client = client_for(carol)
    with django_assert_max_num_queries(12):
        assert client.get("/reports/").status_code == 200


def test_posture_pages_link_to_a_prefilled_report(bob, judged_host):
    judged_host("web-01", {"2.5": ["fail"]}, labels={"pci": "cde"})
    client = client_for(bob)
    for url in ("/posture/pci-dss-4.0/", "/posture/pci-dss-4.0/2.2.5/"):
        html = client.get(url, {"scope": "pci=cde", "as_of": "2026-11-02"}).content.decode()
        assert 'href="/reports/?framework=pci-dss-4.0&amp;' in html and "scope=pci%3Dcde" in html and "as_of=2026-11-02" in html
