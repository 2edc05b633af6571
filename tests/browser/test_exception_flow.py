"""A security manager requests an exception in the exceptions pages, a second one approves it, and the posture of the
CIS requirement it covers turns from failing to passing (its failing result is now excepted)."""

from __future__ import annotations

import datetime
import io
from typing import Any

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


def _status(page: Any, live_server: Any) -> str:
    """The requirement's status as the posture API answers it to the logged-in browser session."""
    response = page.request.get(f"{live_server.url}/api/v1/posture/{BENCHMARK}/")
    assert response.ok, response.text()
    return next(r["status"] for r in response.json()["requirements"] if r["ref_id"] == CONTROL)


def test_a_requested_then_approved_exception_changes_the_posture(page, live_server, user_with_role, log_in):
    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())
    user_with_role("maria", "security_manager")
    user_with_role("nadia", "security_manager")
    judged_host("web01", {CONTROL: "fail", "2.2": "pass"})
    assert compute_posture(BENCHMARK).requirement(CONTROL).status == "failing"

    log_in(page, "maria")
    assert _status(page, live_server) == "failing"
    page.goto(f"{live_server.url}/exceptions/")
    page.get_by_role("link", name="Request an exception").first.click()
    page.wait_for_load_state()
    page.locator("[name=control]").fill(CONTROL)
    page.locator("[name=scope_kind]").select_option("all")
    page.locator("[name=justification]").fill("The host runs a vendor appliance image we cannot change before Q3.")
    page.locator("[name=risk_rating]").select_option("low")
    expires = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    page.locator("[name=expires_at]").fill(expires)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    exception = RiskAcceptance.objects.get(control=CONTROL)
    assert page.url.endswith(f"/exceptions/{exception.pk}/") and exception.status == "requested"
    assert page.get_by_role("button", name="Approve").count() == 0  # four eyes: not for the requester
    assert _status(page, live_server) == "failing"  # requested is not accepted
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
    assert _status(page, live_server) == "passing"
    node = compute_posture(BENCHMARK).requirement(CONTROL)
    assert node.status == "passing" and node.counts.excepted == 1
