"""/reports/ in Chromium: the progress bar follows the API while a report renders, then the download link appears."""

from __future__ import annotations

from playwright.sync_api import expect

from compliance.reports.models import Report
from tests.browser.conftest import serious_violations


def test_the_progress_bar_moves_and_the_download_link_appears(page, live_server, user_with_role, log_in):
    carol = user_with_role("carol", "security_manager")
    report = Report.objects.create(kind="evidence", requested_by=carol, status="running", progress=10, stage="Reading")
    log_in(page, "carol")
    page.goto(f"{live_server.url}/reports/")
    bar = page.locator(f'tr[data-report-url="/api/v1/reports/{report.pk}/"] progress')
    assert bar.get_attribute("value") == "10"
    Report.objects.filter(pk=report.pk).update(progress=60, stage="Laying out the PDF")
    # A locator assertion polls from Playwright's side: a string predicate would be eval'd in the page, which the
    # Content-Security-Policy (no 'unsafe-eval') forbids.
    expect(bar).to_have_js_property("value", 60, timeout=10000)
    assert "Laying out the PDF" in page.locator("[data-role=stage]").inner_text()
    Report.objects.filter(pk=report.pk).update(status="done", progress=100, stage="Done", file="reports/x.pdf",
                                               sha256="a" * 64, pages=3, size_bytes=1000)
    page.wait_for_selector("text=Download PDF", timeout=10000)
    assert "a" * 64 in page.content()
    assert serious_violations(page) == []
