"""Fixtures for the exception tests: hosts with labels, a small CIS catalog, and exceptions made through the services."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from common.roles import SECURITY_MANAGER
from compliance.exceptions import services
from compliance.exceptions.models import RiskAcceptance
from frameworks.models import Framework, Requirement
from inventory.models import Host


@dataclass
class FakeResult:
    control: str
    target_kind: str = "host"
    target_name: str = "web01"
    target_id: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def cis(db: None) -> Framework:
    framework = Framework.objects.create(
        urn="urn:plimsoll:framework:cis-docker-1.6.0", slug="cis-docker-1.6.0", revision=1, name="CIS Docker Benchmark",
        version="1.6.0", publisher="CIS", sha256="0" * 64,
    )
    for order, ref_id in enumerate(["4.1", "5.5", "5.10", "5.28"]):
        Requirement.objects.create(
            framework=framework, ref_id=ref_id, depth=2, order=order, section=ref_id.split(".")[0], kind="recommendation",
            assessable=True, title=f"Recommendation {ref_id}",
        )
    return framework


@pytest.fixture
def web(db: None) -> Host:
    return Host.objects.create(machine_id="m-web", hostname="web01", labels={"env": "prod", "pci": "cde"})


@pytest.fixture
def build(db: None) -> Host:
    return Host.objects.create(machine_id="m-build", hostname="build01", labels={"env": "dev"})


@pytest.fixture
def dave(db: None) -> User:
    """Dave is a second security manager, so carol's requests have someone to approve them besides alice."""
    user = User.objects.create_user("dave", "dave@example.test", "pw-dave")
    user.groups.add(Group.objects.get(name=SECURITY_MANAGER))
    return user


@pytest.fixture
def make_exception(carol: User, cis: Framework) -> Callable[..., RiskAcceptance]:
    def make(by: User | None = None, **fields: Any) -> RiskAcceptance:
        values: dict[str, Any] = {
            "control": "5.5", "justification": "Legacy app needs it", "risk_rating": "medium",
            "expires_at": timezone.now() + datetime.timedelta(days=60),
        }
        values.update(fields)
        return services.request_exception(by=by or carol, **values)

    return make


@pytest.fixture
def approved(make_exception: Callable[..., RiskAcceptance], alice: User) -> Callable[..., RiskAcceptance]:
    def make(**fields: Any) -> RiskAcceptance:
        return services.approve_exception(make_exception(**fields).pk, by=alice)

    return make


@pytest.fixture
def client_of(api_client_for: Callable[[User], Any]) -> Callable[[User], Any]:
    """One API client per user for the test (a user has one token)."""
    clients: dict[int, Any] = {}

    def get(user: User) -> Any:
        if user.pk not in clients:
            clients[user.pk] = api_client_for(user)
        return clients[user.pk]

    return get
