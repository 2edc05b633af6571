"""An auditor in Chromium: the overview's numbers equal the posture API's; the walk overview -> framework ->
requirement -> host, snapshot and evidence; no serious accessibility violation; nothing scrolls sideways at 390 px."""

from __future__ import annotations

import datetime
import io
import json
import re

import pytest
from django.core.management import call_command

from tests.browser.conftest import serious_violations
from tests.conftest import sample_snapshots

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def estate(user_with_role):
    """The three real sample hosts, judged, and evidence attesting CIS 1.2.2 (a manual check) on every host."""
    from django.core.cache import cache

    from compliance.evidence.services import upload_evidence
    from compliance.services import evaluate_snapshot
    from frameworks.models import Requirement
    from inventory.models import AgentToken
    from inventory.services import ingest_snapshot

    cache.clear()  # cached postures are keyed by database state, which a flushed test database repeats
    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())
    agent = AgentToken.issue("browser-fleet", fleet=True)[0]
    for i, path in enumerate(sample_snapshots()):
        doc = json.loads(path.read_text())
        doc["agent"]["collected_at"] = (NOW - datetime.timedelta(hours=i + 1)).isoformat()
        evaluate_snapshot(ingest_snapshot(doc, agent).snapshot.pk)
    manager = user_with_role("mona", "security_manager")
    evidence = upload_evidence(
        by=manager, kind="note", title="audit rules reviewed", description="auditd rules checked by hand.",
        collected_at=NOW - datetime.timedelta(days=1), valid_until=NOW + datetime.timedelta(days=60),
        requirements=[Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.2.2")],
    )
    user_with_role("audrey", "auditor")
    return evidence


def counts(page, slug: str) -> dict[str, int]:
    card = page.locator(f'section[data-slug="{slug}"]')
    return {name: int(card.locator(f'[data-count="{name}"]').first.inner_text())
            for name in ("passing", "failing", "needs_evidence", "not_covered")}


def test_an_auditor_reads_the_overview_numbers_the_api_gives(page, live_server, estate, log_in):
    log_in(page, "audrey")
    assert page.url.rstrip("/") == live_server.url  # lands on the overview
    assert page.locator("h1").inner_text() == "Overview"
    for slug in ("cis-docker-1.6.0", "pci-dss-4.0.1", "hipaa-security-rule", "gdpr"):
        api = page.request.get(f"{live_server.url}/api/v1/posture/{slug}/").json()["summary"]
        assert counts(page, slug) == {k: api[k] for k in ("passing", "failing", "needs_evidence", "not_covered")}
        formula = page.locator(f'section[data-slug="{slug}"] .formula').inner_text()
        covered = api["assessable"] - api["not_covered"]
        assert re.sub(r"\s+", " ", formula) == (
            f"{round(100 * api['passing'] / covered)}% passing = {api['passing']} passing / {covered} covered requirements")


def test_an_auditor_walks_from_the_overview_to_the_host_snapshot_and_evidence(page, live_server, estate, log_in):
    log_in(page, "audrey")
    page.click('section[data-slug="pci-dss-4.0.1"] h2 a')
    page.wait_for_load_state()
    assert page.url.endswith("/posture/pci-dss-4.0.1/")
    assert "PCI DSS 4.0" in page.locator("h1").inner_text()
    if not page.locator('tr[data-ref="12.3.4"]').is_visible():
        page.locator("details#group-12 > summary").click()  # a group is collapsed unless failing
    page.click('tr[data-ref="12.3.4"] a')
    page.wait_for_load_state()
    assert "/posture/pci-dss-4.0.1/12.3.4/" in page.url
    requirement = page.url
    rows = page.locator("table.drill tbody tr")
    assert rows.count() == 3  # CIS 1.2.2 on each of the three hosts (PCI 12.3.4 maps it alone), attested
    assert page.locator('table.drill tr[data-status="attested"]').count() == 3

    first = rows.first
    hostname = first.locator("td").nth(1).inner_text()
    first.locator("td").nth(1).locator("a").click()
    page.wait_for_load_state()
    assert re.search(r"/hosts/\d+/$", page.url)
    assert hostname in page.locator("h1").inner_text()

    page.goto(requirement)
    page.locator("table.drill tbody tr").first.locator("a", has_text="snapshot").click()
    page.wait_for_load_state()
    assert re.search(r"/snapshots/\d+/$", page.url)
    assert page.locator("h1").count() == 1

    page.goto(requirement)
    page.locator("table.drill tbody tr").first.locator(f'a[href="/evidence/{estate.pk}/"]').click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/evidence/{estate.pk}/")
    assert "audit rules reviewed" in page.content()


def test_the_overview_posture_and_requirement_pages_have_no_serious_accessibility_violation(page, live_server, estate,
                                                                                            log_in):
    log_in(page, "audrey")
    for path in ("/", "/posture/", "/posture/pci-dss-4.0/", "/posture/pci-dss-4.0/2.2.1/", "/posture/pci-dss-4.0/12.3.4/"):
        page.goto(f"{live_server.url}{path}")
        assert serious_violations(page) == [], path


def test_nothing_scrolls_sideways_on_a_390_px_screen(page, live_server, estate, log_in):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "audrey")
    for path in ("/", "/posture/", "/posture/pci-dss-4.0/", "/posture/pci-dss-4.0/2.2.1/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        nav = page.locator('nav[aria-label="Main"]').bounding_box()
        assert nav["x"] >= 0 and nav["x"] + nav["width"] <= 390, path
