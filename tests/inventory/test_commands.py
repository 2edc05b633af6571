"""create_agent_token, revoke_agent_token, seed_demo."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from inventory.models import AgentToken, hash_token

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


