"""Schemathesis against /api/v1/schema/, once per role: every operation of the published schema is called with
generated requests (a fixed seed, a bounded number of examples) through the real WSGI application, and every answer
must be no 5xx, a documented status code, a documented content type and a body that matches its documented schema.

State-changing operations run too: they write to the test database, which is rolled back after each role. A known
estate is seeded first (frameworks, hosts and judged snapshots through the real ingest, exceptions, evidence, a
report) so that the operations with ids reach real objects as well as missing ones.

PLIMSOLL_FUZZ_EXAMPLES (default 3) sets the generated examples per operation and role; a longer exploratory run is
`PLIMSOLL_FUZZ_EXAMPLES=100 pytest tests/api/test_schemathesis.py` (docs/api.md).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import close_old_connections, transaction
from django.test import TestCase, override_settings
from django.utils import timezone
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from inventory.models import AgentToken, Container, Host, Image, Snapshot
from tests.roles import ensure_role_groups

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
EXAMPLES = int(os.environ.get("PLIMSOLL_FUZZ_EXAMPLES", "2"))
TIMINGS = bool(os.environ.get("PLIMSOLL_FUZZ_TIMINGS"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ["auditor", "security_manager", "admin", "agent", "anonymous"]
# Nothing a fuzzer sends may be throttled: the run is about answers, not rates (throttles have their own test).
UNTHROTTLED = {"user": "1000000/min", "agent": "1000000/min", "anon": "1000000/min"}


@dataclass
class Estate:
    headers: dict[str, dict[str, str]]
    # Path template -> path parameters of real objects.
    real: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Path template -> a valid body for a real object (the path parameters are its first entry in `real`).
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)


def _user(username: str, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.test", "pw-" + username)
    user.groups.add(Group.objects.get(name=role))
    return user


def _seed(tmp: Path) -> Estate:
    from compliance.evidence import services as evidence_services
    from compliance.exceptions import services as exception_services
    from compliance.models import Evaluation, Result
    from compliance.posture.models import Assessment
    from compliance.reports import services as report_services
    from frameworks.models import Requirement
    from plimsoll.celery import app

    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())
    auditor, manager, second, admin = (
        _user("fuzz-auditor", AUDITOR), _user("fuzz-manager", SECURITY_MANAGER), _user("fuzz-manager-2", SECURITY_MANAGER),
        _user("fuzz-admin", ADMIN),
    )
    _, raw_agent = AgentToken.issue("fuzz-agent", fleet=True)
    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_agent}")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        for sample in sorted(SAMPLES.glob("snapshot_*.json")):
            with TestCase.captureOnCommitCallbacks(execute=True):
                answer = agent.post("/api/v1/snapshots/", sample.read_bytes(), content_type="application/json")
            assert answer.status_code == 201, answer.content[:500]
    finally:
        app.conf.task_always_eager = eager

    host = Host.objects.order_by("id").first()
    now = timezone.now()
    # Requested by the second manager, so that the fuzzed manager and admin may decide it.
    pending = exception_services.request_exception(
        by=second, control="5.5", scope_kind="host", scope_host=host, justification="Needs the host network.",
        compensating_controls="Firewall.", risk_rating="low", expires_at=now + datetime.timedelta(days=30),
    )
    approved = exception_services.request_exception(
        by=manager, control="2.5", scope_kind="all", justification="Legacy daemon flags.",
        compensating_controls="Reviewed monthly.", risk_rating="medium", expires_at=now + datetime.timedelta(days=60),
    )
    exception_services.approve_exception(approved.pk, by=second, revision=approved.revision)
    requirement = Requirement.objects.get(framework__slug="cis-docker-1.6.0", framework__is_current=True, ref_id="1.1.3")
    note = evidence_services.upload_evidence(
        by=manager, kind="note", title="Audit rules reviewed", description="auditctl -l reviewed on every host.",
        collected_at=now - datetime.timedelta(days=1), valid_until=now + datetime.timedelta(days=90),
        requirements=[requirement],
    )
    document = evidence_services.upload_evidence(
        by=manager, kind="file", title="Hardening guide", file=SimpleUploadedFile("guide.txt", b"harden the daemon\n"),
        collected_at=now - datetime.timedelta(days=1), valid_until=now + datetime.timedelta(days=90),
        requirements=[requirement],
    )
    report = report_services.request_report(by=manager, kind="framework", framework="pci-dss-4.0")
    assessment = Assessment.objects.create(name="PCI CDE", framework_slug="pci-dss-4.0", selector="pci=cde")

    headers: dict[str, dict[str, str]] = {"anonymous": {}, "agent": {"Authorization": f"Bearer {raw_agent}"}}
    for role, user in {"auditor": auditor, "security_manager": manager, "admin": admin}.items():
        headers[role] = {"Authorization": f"Token {Token.objects.create(user=user).key}"}

    from audit.models import AuditEvent

    snapshot = Snapshot.objects.order_by("id").first()
    container = Container.objects.order_by("-snapshot_id", "id").first()
    image = Image.objects.order_by("-snapshot_id", "id").first()
    ids = lambda *pks: [{"id": pk} for pk in pks if pk is not None]  # noqa: E731
    real = {
        "/hosts/{id}/": ids(host.pk),
        "/hosts/{id}/labels/": ids(host.pk),
        "/snapshots/{id}/": ids(snapshot.pk),
        "/containers/{id}/": ids(container.pk if container else None),
        "/images/{id}/": ids(image.pk if image else None),
        "/estate/containers/{id}/": ids(container.pk if container else None),
        "/estate/images/{id}/": ids(image.pk if image else None),
        "/evaluations/{id}/": ids(Evaluation.objects.values_list("pk", flat=True).first()),
        "/results/{id}/": ids(Result.objects.values_list("pk", flat=True).first()),
        "/exceptions/{id}/": ids(pending.pk, approved.pk),
        "/exceptions/{id}/approve/": ids(pending.pk),
        "/exceptions/{id}/reject/": ids(pending.pk),
        "/exceptions/{id}/revoke/": ids(approved.pk),
        "/evidence/{id}/": ids(note.pk, document.pk),
        "/evidence/{id}/download/": ids(document.pk, note.pk),
        "/reports/{id}/": ids(report.pk),
        "/reports/{id}/download/": ids(report.pk),
        "/audit-log/{id}/": ids(AuditEvent.objects.values_list("pk", flat=True).first()),
        "/assessments/{id}/": ids(assessment.pk),
        "/frameworks/{slug}/": [{"slug": "cis-docker-1.6.0"}, {"slug": "pci-dss-4.0"}],
        "/crosswalks/{slug}/": [{"slug": slug} for slug in _crosswalk_slugs()],
        "/posture/{slug}/": [{"slug": "pci-dss-4.0"}, {"slug": "cis-docker-1.6.0"}],
        "/frameworks/{framework_slug}/requirements/": [{"framework_slug": "pci-dss-4.0"}],
        "/frameworks/{framework_slug}/requirements/{ref_id}/": [
            {"framework_slug": "cis-docker-1.6.0", "ref_id": "5.5"}, {"framework_slug": "pci-dss-4.0", "ref_id": "2.2.1"},
        ],
    }
    bodies = {
        "/exceptions/{id}/approve/": {"revision": pending.revision, "note": "Reviewed with the host owner."},
        "/exceptions/{id}/reject/": {"note": "Not compensated."},
        "/exceptions/{id}/revoke/": {"reason": "The host was rebuilt."},
        "/hosts/{id}/labels/": {"labels": {"env": "prod", "pci": "cde"}},
        "/snapshots/": new_host_snapshot(),
    }
    return Estate(headers=headers, real=real, bodies=bodies)


def new_host_snapshot() -> dict[str, Any]:
    document = json.loads(sorted(SAMPLES.glob("snapshot_*.json"))[0].read_text())
    document["host"]["machine_id"] = "fuzz-new-host"
    document["host"]["hostname"] = "fuzz-new-host"
    return document


def _crosswalk_slugs() -> list[str]:
    from frameworks.models import Crosswalk

    return list(Crosswalk.objects.filter(is_current=True).values_list("slug", flat=True)[:2])


@pytest.fixture(scope="module")
def estate(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """The seeded estate, shared by the roles of this module and rolled back after them."""
    media = tmp_path_factory.mktemp("fuzz-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        with transaction.atomic():
            ensure_role_groups()
            estate = _seed(media)
            yield estate
            transaction.set_rollback(True)


@pytest.fixture
def wsgi_app(settings: Any) -> Iterator[Any]:
    """The site's WSGI application, called in this thread inside the test's transaction.

    Django's WSGI handler closes "old" connections at the start and end of each request, which would end the test's
    transaction; the test client disconnects the same receivers.
    """
    from plimsoll.wsgi import application

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": UNTHROTTLED}
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(estate: Estate, django_db_blocker: Any) -> Any:
    from plimsoll.wsgi import application

    with django_db_blocker.unblock():
        raw = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(json.loads(raw.content))
    schema.app = application
    return schema


def _real_parameters(estate: Estate, path: str) -> list[dict[str, Any]]:
    return estate.real.get(path.removeprefix("/api/v1"), [])


def _strategies(operation: Any, estate: Estate) -> list[Any]:
    """Generated requests, then the same with the path parameters of each real object, then a valid body if known."""
    strategies = [operation.as_strategy()]
    real = _real_parameters(estate, operation.path)
    strategies += [operation.as_strategy(path_parameters=parameters) for parameters in real]
    if body := estate.bodies.get(operation.path.removeprefix("/api/v1")):
        strategies.append(
            operation.as_strategy(path_parameters=real[0] if real else None, body=body, media_type="application/json")
        )
    return strategies


def _fuzz_operation(operation: Any, estate: Estate, role: str, answers: Counter[str]) -> str | None:
    """Run the operation's examples; the first failure found (Hypothesis stops there), or None."""
    strategies = _strategies(operation, estate)
    found: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES * len(strategies), derandomize=True, database=None, deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        response = case.call(headers=estate.headers[role])
        answers[f"{operation.label} {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError) as exc:
            found.append(f"{operation.label} -> {response.status_code}: {exc}"[:1500])
            raise

    try:
        run()
    except (Exception, FailureGroup) as exc:  # noqa: BLE001 - reported with the operation, the run goes on
        return found[0] if found else f"{operation.label}: {type(exc).__name__}: {exc}"[:1500]
    return None


def _fuzz(schema: Any, estate: Estate, role: str) -> tuple[Counter[str], list[str]]:
    answers: Counter[str] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        started = time.monotonic()
        if failure := _fuzz_operation(operation, estate, role, answers):
            failures.append(failure)
        if TIMINGS:
            print(f"TIMING {role} {operation.label} {time.monotonic() - started:.2f}s")
    return answers, failures


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_every_generated_request_as_documented(role: str, estate: Estate, api_schema: Any, wsgi_app: Any,
                                                          db: None) -> None:
    answers, failures = _fuzz(api_schema, estate, role)
    server_errors = sum(count for answer, count in answers.items() if int(answer.rsplit(" ", 1)[1]) >= 500)
    print(f"{role}: {answers.total()} requests, {server_errors} answered 5xx, {len(failures)} failing operations")
    if TIMINGS:
        print("\n".join(f"ANSWER {role} {answer} x{count}" for answer, count in sorted(answers.items())))
    assert not failures, "\n\n".join(failures)
