"""Project-wide fixtures: the cast of users, agent tokens, API clients and snapshot documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from inventory.models import AgentToken
from tests.roles import ensure_role_groups

SAMPLES = Path(__file__).parent / "samples"


def load_sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def sample_snapshots() -> list[Path]:
    return sorted(SAMPLES.glob("snapshot_*.json"))


def _user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username, f"{username}@example.test", "pw-" + username)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def alice(db: None) -> User:
    """Alice is an admin."""
    return _user("alice", ADMIN)


@pytest.fixture
def bob(db: None) -> User:
    """Bob is an auditor: reads everything, changes nothing."""
    return _user("bob", AUDITOR)


@pytest.fixture
def carol(db: None) -> User:
    """Carol is a security manager."""
    return _user("carol", SECURITY_MANAGER)


@pytest.fixture
def charlie(db: None) -> User:
    """Charlie has an account and no role."""
    return _user("charlie", None)


@pytest.fixture
def agent_token(db: None) -> tuple[AgentToken, str]:
    return AgentToken.issue("agent-01", fleet=True)  # the tests push for many hosts with it


@pytest.fixture
def agent_client(agent_token: tuple[AgentToken, str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token[1]}")
    return client


@pytest.fixture
def api_client_for() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return make


@pytest.fixture
def snapshot_doc() -> Callable[..., dict[str, Any]]:
    """A real agent snapshot captured from Podman (tests/samples/), deep-copied so a test may change it."""
    cache: dict[int, dict[str, Any]] = {}

    def make(index: int = 0) -> dict[str, Any]:
        if index not in cache:
            cache[index] = json.loads(sample_snapshots()[index].read_text())
        return copy.deepcopy(cache[index])

    return make


@pytest.fixture(autouse=True)
def _tasks_in_process(request: pytest.FixtureRequest) -> Any:
    """Tasks run in-process except in tests marked celery_worker, which use the real broker and a worker."""
    from celery.result import _set_task_join_will_block, task_join_will_block

    from plimsoll.celery import app

    eager = request.node.get_closest_marker("celery_worker") is None
    before, blocking = app.conf.task_always_eager, task_join_will_block()
    app.conf.task_always_eager = eager or before
    if eager:
        # A worker started in this process by an earlier test marks the process as a worker, and result.get()
        # then refuses to wait; a test that runs tasks in-process is no worker.
        _set_task_join_will_block(False)
    yield
    app.conf.task_always_eager = before
    _set_task_join_will_block(blocking)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Any:
    """API throttles count in the cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield


_DB_FIXTURES = ("db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server")


@pytest.fixture(autouse=True)
def _role_groups(request: pytest.FixtureRequest) -> None:
    """The role groups exist in every test that uses the database. The migrations create them once; a transactional
    test's flush with post_migrate inhibited (serialized_rollback) empties the tables for the tests that follow it."""
    if request.node.get_closest_marker("django_db") is None and not any(
        name in request.fixturenames for name in _DB_FIXTURES
    ):
        return
    request.getfixturevalue("_django_db_helper")
    ensure_role_groups()
