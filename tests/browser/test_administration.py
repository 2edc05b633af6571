"""In-app administration in Chromium: an admin enrols an agent and copies its command line; an expired auditor account
cannot log in through the real login form; axe-core finds no serious or critical issue on the administration pages
and on the exception page."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from audit.models import AuditEvent
from compliance.administration.models import AccountLimit, Rejudge
from compliance.models import SitePolicy
from inventory.models import AgentToken, hash_token
from tests.browser.conftest import serious_violations

BACKEND = "compliance.administration.backends.AccountLimitBackend"


@pytest.fixture
def gates(settings: Any) -> None:
    # The login backend is read on every login, so the live server uses it as plimsoll/settings.py will.
    settings.AUTHENTICATION_BACKENDS = [BACKEND]


def test_an_admin_enrols_an_agent_and_copies_its_command_line(page, live_server, user_with_role, log_in, context):
    user_with_role("ada", "admin")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, "ada")

    page.goto(f"{live_server.url}/administration/")
    page.get_by_role("link", name="Enrol a host").first.click()
    page.get_by_label("Name").fill("web-01")
    page.get_by_role("button", name="Create the token").click()
    page.wait_for_load_state()

    command = page.locator("#agent-command").inner_text()
    assert command == f"plimsoll-agent push --server {live_server.url} --token-file /etc/plimsoll/agent.token"
    raw = page.locator("#agent-token").inner_text().strip()
    assert AgentToken.objects.get(name="web-01").token_hash == hash_token(raw)
    page.get_by_role("button", name="Copy the command").click()
    status = page.locator('[data-copy-status="agent-command"]')
    status.filter(has_text=re.compile("Copied|Selected")).wait_for()
    if status.inner_text() == "Copied.":
        assert page.evaluate("navigator.clipboard.readText()") == command

    page.goto(f"{live_server.url}/administration/agents/")
    assert "web-01" in page.content() and raw not in page.content()


def test_an_expired_auditor_cannot_log_in_through_the_login_form(page, live_server, user_with_role, log_in, gates):
    olga = user_with_role("olga", "auditor")
    AccountLimit.objects.create(user=olga, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    valid = user_with_role("vera", "auditor")
    AccountLimit.objects.create(user=valid, expires_at=timezone.now() + datetime.timedelta(days=1))

    log_in(page, "olga")
    assert "/login/" in page.url and page.locator("header .who").count() == 0
    assert page.locator(".errorlist, .error").count() >= 1
    assert AuditEvent.objects.filter(action="deny", object_id=str(olga.pk)).exists()

    log_in(page, "vera")  # the same form lets a valid limited auditor in: the refusal above is the expiry's
    assert page.locator("header .who").inner_text() == "vera"


def test_the_administration_pages_have_no_serious_accessibility_violation(page, live_server, user_with_role, log_in):
    ada = user_with_role("ada", "admin")
    bob = user_with_role("bob", "auditor")
    AccountLimit.objects.create(user=bob, expires_at=timezone.now() + datetime.timedelta(days=3), scope="pci=cde")
    token, _ = AgentToken.issue("web-01", created_by=ada)
    SitePolicy.objects.create(name="default", data={"max_unused_images": 2, "trusted_docker_users": ["deploy"]})
    run = Rejudge.objects.create(total=4, done=4, status="done", requested_by=ada)
    log_in(page, "ada")

    urls = ["/administration/", "/administration/agents/", "/administration/agents/enrol/",
            f"/administration/agents/{token.pk}/", f"/administration/agents/{token.pk}/revoke/",
            "/administration/users/", "/administration/users/new/", f"/administration/users/{bob.pk}/",
            "/administration/policy/", f"/administration/policy/rejudge/{run.pk}/"]
    problems = {}
    for url in urls:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        if found := serious_violations(page):
            problems[url] = found
    page.goto(f"{live_server.url}/administration/agents/enrol/")
    page.get_by_label("Name").fill("db-01")
    page.get_by_role("button", name="Create the token").click()
    page.wait_for_load_state()
    if found := serious_violations(page):
        problems["enrolled"] = found
    assert problems == {}


def test_the_exception_pages_have_no_serious_accessibility_violation(page, live_server, user_with_role, log_in):
    from compliance.exceptions.services import request_exception

    carol = user_with_role("carol", "security_manager")
    user_with_role("dave", "security_manager")
    exception = request_exception(by=carol, control="5.5", scope_kind="all", justification="legacy build " * 40,
                                  risk_rating="low", expires_at=timezone.now() + datetime.timedelta(days=30))
    log_in(page, "dave")
    problems = {}
    for url in (f"/exceptions/{exception.pk}/", "/exceptions/", "/exceptions/new/"):
        assert page.goto(f"{live_server.url}{url}").status == 200
        if found := serious_violations(page):
            problems[url] = found
    assert problems == {}
    assert User.objects.filter(username="dave").exists()


def test_the_rejudge_page_follows_the_progress_without_a_reload(page, live_server, user_with_role, log_in):
    ada = user_with_role("ada", "admin")
    run = Rejudge.objects.create(total=4, done=1, status="running", requested_by=ada)
    log_in(page, "ada")
    page.goto(f"{live_server.url}/administration/policy/rejudge/{run.pk}/")
    assert page.locator("progress").get_attribute("value") == "25"

    Rejudge.objects.filter(pk=run.pk).update(done=4, status="done", finished_at=timezone.now())

    page.locator('[data-field="note"]').filter(has_text="Finished").wait_for(timeout=10000)
    assert page.locator('[data-field="counts"]').inner_text() == "4 of 4 snapshots judged"
    assert page.evaluate("document.querySelector('progress').value") == 100
