"""A judged estate built from the real sample snapshots and the real engine, with exceptions of every scope and
evidence, so the estate pages are checked against the posture they must agree with.

Hosts (all collected at T0): web (web01 sample; labels env=prod, pci=cde, host=web), db (db01; env=prod, host=db),
build (build01; env=dev, host=build). Decisions at T0 + 1 day:
- 2.1 excepted on web (host scope); 5.5 excepted where env=dev (selector scope: build's ci-runner);
- 5.4 excepted on containers named pl-web (container scope: a target-scoped exception);
- 4.6 excepted on db (host scope: its image);
- evidence for 1.2.1 (manual) over pci=cde hosts: attested on web.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from compliance.services import evaluate_snapshot
from frameworks.models import Requirement
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot
from inventory.services import ingest_snapshot
from tests.posture.conftest import T0, catalogs  # noqa: F401  (a fixture shared with the posture tests)

NOW = T0 + datetime.timedelta(days=2)
SAMPLES = {"build": 0, "db": 1, "web": 2}
LABELS = {"web": {"env": "prod", "pci": "cde"}, "db": {"env": "prod"}, "build": {"env": "dev"}}


@pytest.fixture
def push(catalogs: None, agent_token: Any, snapshot_doc: Callable[..., dict[str, Any]]) -> Callable[..., Snapshot]:  # noqa: F811
    """push("web", at=..., change=fn) -> a snapshot of that host, stored and judged by the real engine.

    `name` picks the sample (web, db, build; any other name is a copy of web under that name); `change(doc)` edits
    the document first.
    """

    def make(name: str, at: datetime.datetime = T0, change: Callable[[dict[str, Any]], None] | None = None,
             labels: dict[str, str] | None = None) -> Snapshot:
        doc = snapshot_doc(SAMPLES.get(name, 2))
        doc["host"]["machine_id"] = f"machine-{name}"
        doc["host"]["hostname"] = name
        doc["agent"]["collected_at"] = at.isoformat()
        doc["agent"]["labels"] = {**(labels if labels is not None else LABELS.get(name, {"env": "prod"})), "host": name}
        if change is not None:
            change(doc)
        snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
        # Outside a test transaction (browser tests) the ingest's own task has judged it already.
        evaluate_snapshot(snapshot.pk)
        snapshot = Snapshot.objects.get(pk=snapshot.pk)
        assert snapshot.evaluation_status == EvaluationStatus.DONE
        return snapshot

    return make


@pytest.fixture
def estate(push: Callable[..., Snapshot], carol: Any, alice: Any) -> dict[str, Snapshot]:
    snapshots = {name: push(name) for name in ("web", "db", "build")}
    hosts = {name: Host.objects.get(pk=s.host_id) for name, s in snapshots.items()}
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        def accept(**scope: Any) -> None:
            exception = request_exception(by=carol, justification="accepted for the test", risk_rating="low",
                                          expires_at=T0 + datetime.timedelta(days=30), **scope)
            approve_exception(exception.pk, by=alice)

        accept(control="2.1", scope_kind="host", scope_host=hosts["web"])
        accept(control="5.5", scope_kind="selector", scope_selector="env=dev")
        accept(control="5.4", scope_kind="container", scope_container_pattern="pl-web")
        accept(control="4.6", scope_kind="host", scope_host=hosts["db"])
        upload_evidence(by=carol, kind="note", title="host hardened per the OS benchmark", description="CIS Debian L1",
                        collected_at=T0, valid_until=T0 + datetime.timedelta(days=90),
                        requirements=[Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.2.1")],
                        scope_selector="pci=cde")
    return snapshots


@pytest.fixture
def now() -> Any:
    """The tests read the estate two days after its snapshots, while the exceptions and evidence are valid."""
    with time_machine.travel(NOW, tick=False):
        yield NOW
