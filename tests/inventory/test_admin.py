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


def test_it_records_admin_changes_and_enrolments_in_the_audit_trail(admin_client, agent_token, snapshot_doc):
    from audit.models import AuditEvent

    host = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot.host
    admin_client.post("/admin/inventory/agenttoken/add/", {"name": "web-08"})
    token = AgentToken.objects.get(name="web-08")
    created = AuditEvent.objects.get(action="create", object_id=str(token.pk), content_type__model="agenttoken")
    assert created.actor_username == "root" and created.changes["name"] == [None, "web-08"]
    response = admin_client.post(
        f"/admin/inventory/host/{host.pk}/change/",
        {"labels": '{"pci": "cde"}', "agent_token": host.agent_token_id or "", "_save": "Save"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = AuditEvent.objects.get(action="change", content_type__model="host", object_id=str(host.pk))
    assert change.changes == {"labels": [{}, {"pci": "cde"}]}


def test_it_records_command_line_enrolment_and_revocation():
    import io

    from django.core.management import call_command

    from audit.models import AuditEvent

    call_command("create_agent_token", "cli-01", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("revoke_agent_token", "cli-01", stdout=io.StringIO())
    actions = list(AuditEvent.objects.filter(object_repr="cli-01").order_by("id").values_list("action", "actor_username"))
    assert actions == [("create", "manage.py"), ("revoke", "manage.py")]


def test_it_lets_the_admin_role_manage_label_rules_policy_and_assessments(alice):
    alice.is_staff = True
    alice.save()
    client = Client()
    client.force_login(alice)
    for url in ("/admin/inventory/labelrule/add/", "/admin/compliance/sitepolicy/add/", "/admin/posture/assessment/add/"):
        assert client.get(url).status_code == 200, url
    response = client.post("/admin/inventory/labelrule/add/", {"key": "pci", "value": "cde", "fact": "hostname",
                                                                "pattern": "db*", "created_at_0": "2026-11-30",
                                                                "created_at_1": "10:00:00"})
    assert response.status_code == 302, response.content.decode()[:1500]
    from inventory.models import LabelRule

    assert LabelRule.objects.filter(key="pci", pattern="db*").exists()


def test_it_keeps_auditors_out_of_the_admin_changes(bob):
    bob.is_staff = True
    bob.save()
    client = Client()
    client.force_login(bob)
    assert client.get("/admin/inventory/labelrule/add/").status_code == 403
