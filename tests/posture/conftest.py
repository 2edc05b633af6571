"""A known estate for posture tests: hosts whose results for chosen CIS checks are set by the test."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from compliance.engine import CheckResult, Status
from compliance.services import store_results
from inventory.models import Snapshot
from inventory.services import ingest_snapshot

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def catalogs(db: None) -> None:
    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())


def finding(control: str, status: str, kind: str = "host", name: str = "host", state: str | None = None) -> CheckResult:
    return CheckResult(control=control, target_kind=kind, target_name=name, target_id=f"id-{name}", status=Status(status),
                       evidence={"test": status}, expected="", message=f"{control} {status}", target_state=state)


@pytest.fixture
def judged_host(catalogs: None, agent_token: Any, snapshot_doc: Callable[..., dict[str, Any]]) -> Callable[..., Snapshot]:
    """judged_host("web", {"2.5": ["fail"]}, labels={"pci": "cde"}, at=T0) -> a stored, judged snapshot of that host
    (the labels are the agent's).

    A status written "fail@stopped" is a stopped container's; "fail@web-1" a running container named web-1;
    "fail@image:nginx:1.27" an image's.
    """

    def make(name: str, results: dict[str, list[str]], labels: dict[str, str] | None = None,
             at: datetime.datetime = T0) -> Snapshot:
        doc = snapshot_doc()
        doc["host"]["machine_id"] = f"machine-{name}"
        doc["host"]["hostname"] = name
        doc["agent"]["collected_at"] = at.isoformat()
        if labels is not None:
            doc["agent"]["labels"] = labels
        snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
        findings = []
        for control, statuses in results.items():
            for i, spec in enumerate(statuses):
                status, _, where = spec.partition("@")
                if where.startswith("image:"):
                    findings.append(finding(control, status, "image", where.removeprefix("image:")))
                elif where == "stopped":
                    findings.append(finding(control, status, "container", f"{name}-stopped-{i}", "exited"))
                elif where:
                    findings.append(finding(control, status, "container", where, "running"))
                else:
                    findings.append(finding(control, status, "host", name))
        store_results(snapshot, findings, {})
        return snapshot

    return make
