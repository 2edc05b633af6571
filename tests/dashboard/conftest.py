"""Dashboard fixtures: the judged estate builders of the posture tests, and an estate that fails, passes and waits."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.posture.conftest import catalogs, judged_host  # noqa: F401  (fixtures shared with the posture tests)

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Cached postures are keyed by database state; a rolled-back test may leave the same state with other rows."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def estate(judged_host: Callable[..., Any]) -> list[Any]:  # noqa: F811
    """cde-1 (pci=cde): 1.1.2 manual, 2.5 fail, 2.13 error, 4.4 fails on a running container; office-1: all pass."""
    return [
        judged_host("cde-1", {"1.1.2": ["manual"], "1.2.2": ["pass"], "2.5": ["fail"], "2.13": ["error"],
                              "4.4": ["pass@web-1", "fail@web-2", "fail@stopped"]}, labels={"pci": "cde"},
                    at=NOW - datetime.timedelta(hours=1)),
        judged_host("office-1", {"1.1.2": ["pass"], "1.2.2": ["pass"], "2.5": ["pass"], "2.13": ["pass"],
                                 "4.4": ["pass@web-3"]}, labels={}, at=NOW - datetime.timedelta(hours=2)),
    ]


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def fleet(judged_host: Callable[..., Any], size: int, prefix: str = "fleet") -> None:  # noqa: F811
    """`size` more hosts, alternately failing and passing 2.5 and 4.4, each with a container or two."""
    for i in range(size):
        status = "fail" if i % 2 else "pass"
        judged_host(f"{prefix}-{i:03d}", {"2.5": [status], "4.4": [f"{status}@c-{i}", "pass@d-{i}"], "1.1.2": ["manual"]},
                    labels={"pci": "cde"} if i % 3 == 0 else {}, at=NOW - datetime.timedelta(hours=3))
