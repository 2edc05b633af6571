"""A person logs in through the real login form in Chromium and lands on a page with the navigation."""

from __future__ import annotations

from tests.browser.conftest import serious_violations


def test_it_logs_an_auditor_in_and_out(page, live_server, user_with_role, log_in):
    user_with_role("audrey", "auditor")
    log_in(page, "audrey")
    assert page.locator("header .who").inner_text() == "audrey"
    page.click("form.logout button")
    page.wait_for_load_state()
    assert "/login/" in page.url


def test_it_refuses_a_wrong_password(page, live_server, user_with_role, log_in):
    user_with_role("audrey", "auditor")
    log_in(page, "audrey", "wrong")
    assert "/login/" in page.url
    assert page.locator("header .who").count() == 0


def test_it_has_no_serious_accessibility_violation_on_the_login_page(page, live_server):
    page.goto(f"{live_server.url}/login/")
    assert serious_violations(page) == []
