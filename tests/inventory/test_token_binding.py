"""Agent tokens are bound to hosts: a host token speaks for the one host it enrolled, a fleet token enrols new hosts
only, and a push for a host bound to another token is refused with 403, audited, and stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from audit.models import AuditEvent
from inventory.models import AgentToken, Host, Snapshot

pytestmark = pytest.mark.django_db


def _push(raw: str, doc: dict) -> object:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.generic("POST", "/api/v1/snapshots/", json.dumps(doc), content_type="application/json")


def _doc(snapshot_doc, machine_id: str, index: int = 0) -> dict:
    doc = snapshot_doc(index)
    doc["host"]["machine_id"] = machine_id
    return doc


def test_it_binds_a_host_token_to_the_first_host_it_pushes_for(snapshot_doc):
    token, raw = AgentToken.issue("web-01")
    assert _push(raw, _doc(snapshot_doc, "m-web")).status_code == 201
    assert Host.objects.get(machine_id="m-web").agent_token == token
    assert _push(raw, _doc(snapshot_doc, "m-web", 1)).status_code == 201
    refused = _push(raw, _doc(snapshot_doc, "m-other", 2))
    assert refused.status_code == 403
    assert refused.json()["error"] == "permission_denied"
    assert not Host.objects.filter(machine_id="m-other").exists()
    event = AuditEvent.objects.get(action="deny")
    assert "m-other" in json.dumps(event.changes) and event.actor_username == "agent:web-01"


def test_it_refuses_a_push_for_a_host_bound_to_another_token(snapshot_doc):
    _, first = AgentToken.issue("web-01")
    _, second = AgentToken.issue("intruder", fleet=True)
    assert _push(first, _doc(snapshot_doc, "m-web")).status_code == 201
    before = Snapshot.objects.count()
    hostile = _doc(snapshot_doc, "m-web", 1)
    hostile["host"]["hostname"] = "renamed"
    assert _push(second, hostile).status_code == 403
    assert Snapshot.objects.count() == before
    assert Host.objects.get(machine_id="m-web").hostname != "renamed"


def test_it_lets_a_fleet_token_enrol_many_new_hosts(snapshot_doc):
    token, raw = AgentToken.issue("fleet", fleet=True)
    for i in range(3):
        assert _push(raw, _doc(snapshot_doc, f"m-{i}", i)).status_code == 201
    assert set(Host.objects.values_list("agent_token", flat=True)) == {token.pk}


def test_it_lets_a_new_token_enrol_a_host_an_admin_released(snapshot_doc):
    _, old = AgentToken.issue("old")
    _, new = AgentToken.issue("new")
    assert _push(old, _doc(snapshot_doc, "m-web")).status_code == 201
    assert _push(new, _doc(snapshot_doc, "m-web", 1)).status_code == 403
    Host.objects.filter(machine_id="m-web").update(agent_token=None)
    assert _push(new, _doc(snapshot_doc, "m-web", 1)).status_code == 201


def test_it_creates_fleet_tokens_from_the_command_line():
    err = io.StringIO()
    call_command("create_agent_token", "fleet-01", "--fleet", stdout=io.StringIO(), stderr=err)
    assert AgentToken.objects.get(name="fleet-01").fleet
    assert "fleet token" in err.getvalue()
