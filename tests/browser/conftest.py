"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium; no browser download) against a live server.

Screenshots of failing tests land in var/test-artifacts/ (pytest-playwright's --screenshot only-on-failure, set in
pyproject.toml). Without Chromium the tests skip, unless PLIMSOLL_REQUIRE_BROWSER is set (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

CHROMIUM = os.environ.get("PLIMSOLL_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright() -> Any:
    """Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are synchronous.
    Set from the first browser test to the end of the session (the loop keeps running for the live-server tests
    after them), not at import; the deployment check's subprocess drops it (tests/test_settings.py)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("PLIMSOLL_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium); PLIMSOLL_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture
def roles(transactional_db: None) -> None:
    """The role groups: a live-server test flushes the tables after each test, migrations' data included."""
    from tests.roles import ensure_role_groups

    ensure_role_groups()


@pytest.fixture
def user_with_role(roles: None) -> Callable[..., User]:
    def make(username: str, role: str | None) -> User:
        user = User.objects.create_user(username, f"{username}@example.test", PASSWORD)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def log_in(live_server: Any) -> Callable[..., None]:
    """log_in(page, "alice"): through the login form, as a person would."""

    def do(page: Any, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state()

    return do


def serious_violations(page: Any) -> list[str]:
    """axe-core (bundled by axe-playwright-python, served from the test, never a CDN): serious and critical issues."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
