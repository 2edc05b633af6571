"""Enrolling an agent in the admin shows the token once; snapshots cannot be changed there."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from inventory.models import AgentToken
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    user = User.objects.create_superuser("root", "root@example.test", "pw-root")
    client = Client()
    client.force_login(user)
    return client


def test_it_enrols_an_agent_and_shows_the_token_once(admin_client):
    response = admin_client.post("/admin/inventory/agenttoken/add/", {"name": "web-07"}, follow=True)
    assert response.status_code == 200
    raw = re.search(r"(plm_[A-Za-z0-9_\-]+)", response.content.decode()).group(1)
    token = AgentToken.objects.get(name="web-07")
    assert AgentToken.lookup(raw) == token and token.is_active
    assert raw not in admin_client.get(f"/admin/inventory/agenttoken/{token.pk}/change/").content.decode()


def test_it_shows_snapshots_read_only(admin_client, agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    assert admin_client.get(f"/admin/inventory/snapshot/{snapshot.pk}/change/").status_code == 200
    response = admin_client.post(f"/admin/inventory/snapshot/{snapshot.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert type(snapshot).objects.filter(pk=snapshot.pk).exists()
