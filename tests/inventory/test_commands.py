"""create_agent_token, revoke_agent_token, seed_demo."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from inventory.models import AgentToken, Host, Snapshot, hash_token
from tests.conftest import sample_snapshots

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_the_token_once_on_the_last_line(snapshot_doc):
    raw = run("create_agent_token", "web-01").strip().splitlines()[-1]
    token = AgentToken.objects.get(name="web-01")
    assert token.token_hash == hash_token(raw)
    assert raw not in json.dumps(list(AgentToken.objects.values()), default=str)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.generic("POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()), content_type="application/json")
    assert response.status_code == 201


def test_it_refuses_a_duplicate_token_name():
    run("create_agent_token", "web-01")
    with pytest.raises(CommandError, match="already exists"):
        run("create_agent_token", "web-01")


def test_it_revokes_a_token():
    raw = run("create_agent_token", "web-01").strip().splitlines()[-1]
    run("revoke_agent_token", "web-01")
    assert AgentToken.lookup(raw).revoked_at is not None
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke_agent_token", "web-01")
    with pytest.raises(CommandError, match="no agent token"):
        run("revoke_agent_token", "nope")


def test_it_seeds_demo_hosts_and_users_idempotently(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    first = run("seed_demo")
    assert Host.objects.count() == len(sample_snapshots())
    assert Snapshot.objects.count() == len(sample_snapshots())
    assert {"admin", "manager", "auditor"} <= set(User.objects.values_list("username", flat=True))
    creds = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert creds["auditor"] in first
    assert User.objects.get(username="auditor").check_password(creds["auditor"])
    second = run("seed_demo")
    assert "(0 new)" in second
    assert Snapshot.objects.count() == len(sample_snapshots())
