"""In Chromium, the site's pages and the library pages it serves load with no Content-Security-Policy violation.

The policy is strict (no inline script or style); a violation shows as a `securitypolicyviolation` event, recorded
by a script Playwright adds before any page script runs (DevTools-injected, so the policy does not apply to it).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser import conftest as browser

# The browser fixtures of tests/browser/ (Debian's Chromium, role users, the login form), used here as they are.
_orm_beside_playwright = browser._orm_beside_playwright
browser_type_launch_args = browser.browser_type_launch_args
roles = browser.roles
user_with_role = browser.user_with_role
log_in = browser.log_in

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _violations(page: Any, url: str, ready: str) -> list[str]:
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp") + console


@pytest.fixture
def csp_page(page: Any) -> Any:
    page.add_init_script(RECORD_VIOLATIONS)
    return page


@pytest.fixture
def admin_user(user_with_role: Any) -> User:
    user = user_with_role("ada", "admin")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return user


def test_the_login_page_has_no_violation(csp_page, live_server):
    assert _violations(csp_page, f"{live_server.url}/login/", "form button[type=submit]") == []


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/", "header .who"),
        ("/admin/", "#content"),
        ("/admin/auth/user/", "#result_list"),
        ("/admin/compliance/sitepolicy/add/", "form"),
        ("/api/v1/docs/", ".swagger-ui .info"),
        ("/api/v1/hosts/", ".response-info"),
        ("/api/v1/audit-log/", ".response-info"),
    ],
)
def test_signed_in_pages_have_no_violation(csp_page, live_server, admin_user, log_in, path, ready):
    log_in(csp_page, "ada")
    found = _violations(csp_page, f"{live_server.url}{path}", ready)
    assert found == [], found


def test_redoc_is_blocked_only_from_loading_things_off_the_site(csp_page, live_server):
    # drf-spectacular's Redoc page links Google Fonts and Redocly's logo; the policy keeps it from loading anything
    # off the site, and allows nothing inline but styles (docs/security.md).
    csp_page.goto(f"{live_server.url}/api/v1/redoc/")
    csp_page.wait_for_selector(".api-content")
    csp_page.wait_for_load_state("networkidle")
    violations = csp_page.evaluate("window.__csp")
    assert violations, "Redoc was expected to try its external font stylesheet"
    off_site = [v for v in violations if " blocked https://" in v and f"blocked {live_server.url}" not in v]
    assert off_site == violations, violations
