"""A security manager requests an exception from a failing row of a requirement's drill-down (the form comes
prefilled with the row's control and host), a second one approves it, and the overview changes: the CIS requirement
the exception covers moves from failing to passing (its failing result is now excepted)."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from compliance.engine import BENCHMARK, CheckResult, Status
from compliance.exceptions.models import RiskAcceptance
from compliance.posture.services import compute_posture
from compliance.services import store_results
from inventory.models import AgentToken, Snapshot
from inventory.services import ingest_snapshot
from tests.conftest import load_sample, sample_snapshots

CONTROL = "2.5"  # a host-level CIS check, so one failing result stands for the host
COUNTS = ("passing", "failing", "needs_evidence", "not_covered")


def judged_host(name: str, statuses: dict[str, str]) -> Snapshot:
    """A stored snapshot of `name` whose results for the given CIS checks are those statuses (tests/posture idea)."""
    doc: dict[str, Any] = load_sample(sample_snapshots()[0].name)
    doc["host"]["machine_id"] = f"machine-{name}"
    doc["host"]["hostname"] = name
    doc["agent"]["collected_at"] = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    snapshot = ingest_snapshot(doc, AgentToken.issue(f"agent-{name}")[0]).snapshot
    findings = [CheckResult(control=control, target_kind="host", target_name=name, target_id=f"id-{name}",
                            status=Status(status), evidence={"test": status}, expected="", message=f"{control} {status}")
                for control, status in statuses.items()]
    store_results(snapshot, findings, {})
    return snapshot


def _api(page: Any, live_server: Any) -> dict[str, Any]:
    """The CIS posture as the posture API answers it to the logged-in browser session."""
    response = page.request.get(f"{live_server.url}/api/v1/posture/{BENCHMARK}/")
    assert response.ok, response.text()
    return response.json()


def _status(page: Any, live_server: Any) -> str:
    return next(r["status"] for r in _api(page, live_server)["requirements"] if r["ref_id"] == CONTROL)


def _overview(page: Any, live_server: Any) -> dict[str, int]:
    """The CIS card's numbers on the overview page `/`, as a person reads them."""
    page.goto(f"{live_server.url}/")
    card = page.locator(f'section[data-slug="{BENCHMARK}"]')
    return {name: int(card.locator(f'[data-count="{name}"]').first.inner_text()) for name in COUNTS}


def test_an_exception_requested_from_a_failing_row_and_approved_changes_the_overview(page, live_server, user_with_role,
                                                                                      log_in):
    cache.clear()  # cached postures are keyed by database state, which a flushed test database repeats
    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())
    user_with_role("maria", "security_manager")
    user_with_role("nadia", "security_manager")
    snapshot = judged_host("web01", {CONTROL: "fail", "2.2": "pass"})
    assert compute_posture(BENCHMARK).requirement(CONTROL).status == "failing"

    log_in(page, "maria")
    before = _overview(page, live_server)
    summary = _api(page, live_server)["summary"]
    assert before == {name: summary[name] for name in COUNTS} and before["failing"] >= 1

    # The failing row of the requirement's drill-down links to the request form, prefilled with its control and host.
    page.goto(f"{live_server.url}/posture/{BENCHMARK}/{CONTROL}/")
    row = page.locator('table.drill tbody tr[data-status="fail"]')
    assert row.count() == 1 and "web01" in row.inner_text()
    row.get_by_role("link", name="Request an exception").click()
    page.wait_for_load_state()
    assert "/exceptions/new/?" in page.url
    assert page.locator("[name=control]").input_value() == CONTROL
    assert page.locator("[name=scope_kind]").input_value() == "host"
    assert page.locator("[name=scope_host]").input_value() == str(snapshot.host_id)
    page.locator("[name=justification]").fill("The host runs a vendor appliance image we cannot change before Q3.")
    page.locator("[name=risk_rating]").select_option("low")
    expires = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    page.locator("[name=expires_at]").fill(expires)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    exception = RiskAcceptance.objects.get(control=CONTROL)
    assert page.url.endswith(f"/exceptions/{exception.pk}/") and exception.status == "requested"
    assert exception.scope_kind == "host" and exception.scope_host_id == snapshot.host_id
    assert page.get_by_role("button", name="Approve").count() == 0  # four eyes: not for the requester
    assert _status(page, live_server) == "failing"  # requested is not accepted
    assert _overview(page, live_server) == before
    page.click("form.logout button")
    page.wait_for_load_state()

    log_in(page, "nadia")
    page.goto(f"{live_server.url}/exceptions/{exception.pk}/")
    page.locator("textarea[name=note]").first.fill("Accepted until the appliance upgrade.")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()

    exception.refresh_from_db()
    assert exception.status == "approved" and exception.approved_by.username == "nadia"
    assert "approved" in page.locator("main").inner_text().lower()
    after = _overview(page, live_server)
    assert after["failing"] == before["failing"] - 1 and after["passing"] == before["passing"] + 1
    summary = _api(page, live_server)["summary"]
    assert after == {name: summary[name] for name in COUNTS}
    assert _status(page, live_server) == "passing"
    node = compute_posture(BENCHMARK).requirement(CONTROL)
    assert node.status == "passing" and node.counts.excepted == 1

    # The drill-down now shows the row excepted, with the exception that covers it.
    page.goto(f"{live_server.url}/posture/{BENCHMARK}/{CONTROL}/")
    excepted = page.locator('table.drill tbody tr[data-status="excepted"]')
    assert excepted.count() == 1 and excepted.locator(f'a[href="/exceptions/{exception.pk}/"]').count() == 1
