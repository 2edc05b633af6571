"""Agents: enrol a host (the token shown once with its command line), the list, one token's hosts, revoke; audited."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from inventory.models import AgentToken, hash_token

pytestmark = pytest.mark.django_db


def _enrol(client: Client, name: str = "web-01") -> tuple[str, str]:
    response = client.post("/administration/agents/enrol/", {"name": name})
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    raw = re.search(r"(plm_[A-Za-z0-9_-]{20,})", html).group(1)
    return raw, html


def test_it_enrols_a_host_and_shows_the_token_once_with_the_command_line(admin_client, alice):
    raw, html = _enrol(admin_client)

    token = AgentToken.objects.get(name="web-01")
    assert token.token_hash == hash_token(raw) and token.created_by == alice and token.is_active
    assert "plimsoll-agent push --server http://testserver --token-file /etc/plimsoll/agent.token" in html
    assert 'data-copy="agent-command"' in html and "plimsoll/administration.js" in html
    assert "<script>" not in html  # no inline script: the copy buttons are wired by the static file
    event = AuditEvent.objects.get(action="create", object_id=str(token.pk), content_type__model="agenttoken")
    assert event.actor == alice and event.changes["name"] == [None, "web-01"]
    assert event.changes["created_by"] == [None, "alice"] and raw not in json.dumps(event.changes)

    # Shown once: no later page carries the secret.
    for url in ("/administration/agents/", f"/administration/agents/{token.pk}/", "/administration/", "/audit/"):
        page = admin_client.get(url)
        assert page.status_code == 200 and raw not in page.content.decode(), url


def test_the_enrolled_token_pushes_snapshots(admin_client, snapshot_doc):
    raw, _ = _enrol(admin_client)
    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = agent.generic("POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()), content_type="application/json")
    assert response.status_code == 201


def test_it_refuses_a_duplicate_or_empty_name(admin_client):
    _enrol(admin_client)
    again = admin_client.post("/administration/agents/enrol/", {"name": "web-01"})
    assert again.status_code == 400 and "exists already" in again.content.decode()
    assert admin_client.post("/administration/agents/enrol/", {"name": "  "}).status_code == 400
    assert admin_client.post("/administration/agents/enrol/", {"name": "x" * 101}).status_code == 400
    assert AgentToken.objects.count() == 1


def test_it_lists_tokens_with_their_hosts_and_snapshots(admin_client, judged_host, django_assert_max_num_queries):
    judged_host("web", {"2.5": ["fail"]})
    judged_host("db", {"2.5": ["pass"]})
    for i in range(5):
        AgentToken.issue(f"spare-{i}")
    with django_assert_max_num_queries(8):
        page = admin_client.get("/administration/agents/")
    html = page.content.decode()
    assert page.status_code == 200 and "agent-01" in html and "spare-4" in html
    row = html[html.index("agent-01"):]
    row = row[: row.index("</tr>")]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "2"]  # two hosts, two snapshots

    token = AgentToken.objects.get(name="agent-01")
    detail = admin_client.get(f"/administration/agents/{token.pk}/").content.decode()
    assert "web" in detail and "db" in detail


def test_it_revokes_after_confirmation_and_the_agent_is_refused(admin_client, alice, agent_client, agent_token, snapshot_doc):
    token, _ = agent_token
    confirm = admin_client.get(f"/administration/agents/{token.pk}/revoke/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    token.refresh_from_db()
    assert token.is_active  # a GET changes nothing

    response = admin_client.post(f"/administration/agents/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active
    event = AuditEvent.objects.get(action="revoke", object_id=str(token.pk))
    assert event.actor == alice and event.changes["revoked_at"][0] is None

    push = agent_client.generic("POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()), content_type="application/json")
    assert push.status_code == 401
    again = admin_client.post(f"/administration/agents/{token.pk}/revoke/")
    assert again.status_code == 409 and AuditEvent.objects.filter(action="revoke").count() == 1


def test_only_admins_reach_the_agent_pages(bob, carol, charlie, agent_token):
    token, _ = agent_token
    for user in (bob, carol, charlie):
        client = Client()
        client.force_login(user)
        for url in ("/administration/", "/administration/agents/", "/administration/agents/enrol/",
                    f"/administration/agents/{token.pk}/revoke/"):
            assert client.get(url).status_code == 403, (user, url)
        assert client.post("/administration/agents/enrol/", {"name": "sneaky"}).status_code == 403
        assert client.post(f"/administration/agents/{token.pk}/revoke/").status_code == 403
    assert Client().get("/administration/agents/").status_code == 302
    assert not AgentToken.objects.filter(name="sneaky").exists() and AgentToken.objects.get(pk=token.pk).is_active
