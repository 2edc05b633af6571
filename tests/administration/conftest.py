"""Fixtures for the administration tests: the account-limit gates wired as settings.py wires them, admin clients,
and a judged estate (the posture tests' helper)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from common.roles import AUDITOR
from compliance.administration.models import AccountLimit
from tests.posture.conftest import T0, catalogs, finding, judged_host  # noqa: F401  (fixtures shared with posture)

BACKEND = "compliance.administration.backends.AccountLimitBackend"
MIDDLEWARE = "compliance.administration.middleware.AccountLimitMiddleware"
TOKEN_AUTH = "compliance.administration.authentication.AccountLimitTokenAuthentication"


def wire_gates(settings: Any) -> None:
    """The settings lines the lead adds to plimsoll/settings.py (see the report)."""
    settings.AUTHENTICATION_BACKENDS = [BACKEND]
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        middleware.insert(middleware.index("django.contrib.messages.middleware.MessageMiddleware") + 1, MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_AUTHENTICATION_CLASSES"] = [TOKEN_AUTH, "rest_framework.authentication.SessionAuthentication"]
    settings.REST_FRAMEWORK = rest


@pytest.fixture(autouse=True)
def _gates(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wire_gates(settings)
    # DRF views copy DEFAULT_AUTHENTICATION_CLASSES when rest_framework.views is first imported, which may be before
    # this test changed the setting; settings.py sets it before any import, so production needs no such patch.
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.views import APIView

    from compliance.administration.authentication import AccountLimitTokenAuthentication

    monkeypatch.setattr(APIView, "authentication_classes", [AccountLimitTokenAuthentication, SessionAuthentication])


@pytest.fixture
def admin_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def limited_auditor(db: None) -> Callable[..., User]:
    """limited_auditor("audrey", expires_in=days, frameworks=[...], scope="pci=cde") -> an auditor with limits."""

    def make(username: str, expires_in: float | None = None, frameworks: list[str] | None = None, scope: str = "") -> User:
        user = User.objects.create_user(username, f"{username}@example.test", "pw-" + username)
        user.groups.add(Group.objects.get(name=AUDITOR))
        expires_at = timezone.now() + datetime.timedelta(days=expires_in) if expires_in is not None else None
        AccountLimit.objects.create(user=user, expires_at=expires_at, frameworks=frameworks or [], scope=scope)
        return user

    return make
