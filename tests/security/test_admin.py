"""The Django admin: evidence is read-only there, and every add, change and deletion made there is audited."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from rest_framework.authtoken.models import Token, TokenProxy

from audit.admin_site import AdminActionsAudited, AuditedAdminSite
from audit.models import AuditEvent
from compliance.models import Evaluation, SitePolicy
from compliance.services import evaluate_snapshot
from inventory.models import Snapshot

pytestmark = pytest.mark.django_db

# Results are evidence: whatever of these the admin shows, it must show read-only.
EVIDENCE = [
    "compliance.Evaluation", "compliance.Result", "compliance.ControlTally", "inventory.Snapshot", "inventory.Container",
    "inventory.Image", "posture.PostureRecord", "reports.Report", "audit.AuditEvent", "evidence.Evidence",
    "exceptions.RiskAcceptance",
]


@pytest.fixture
def superuser(alice: User) -> User:
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    return User.objects.get(pk=alice.pk)


@pytest.fixture
def admin_client(superuser: User) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(superuser)
    return client


@pytest.fixture
def evaluation(agent_client, snapshot_doc) -> Evaluation:
    response = agent_client.post("/api/v1/snapshots/", json.dumps(snapshot_doc(0)), content_type="application/json")
    assert response.status_code == 201, response.content
    assert evaluate_snapshot(Snapshot.objects.get().pk) == "done"  # judged here (the on-commit task does not run)
    return Evaluation.objects.get()


def _label(model: type) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


@pytest.mark.parametrize("label", EVIDENCE)
def test_evidence_cannot_be_added_changed_or_deleted_in_the_admin(rf, superuser, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        return  # not in the admin at all: nothing to write there
    request = rf.get("/admin/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_evidence_list_names_real_models():
    for label in EVIDENCE:
        assert apps.get_model(label) is not None


def test_an_admin_cannot_delete_an_evaluation(admin_client, evaluation):
    base = "/admin/compliance/evaluation/"
    assert admin_client.get(base).status_code == 200  # browsable
    assert admin_client.get(f"{base}{evaluation.pk}/delete/").status_code == 403
    assert admin_client.post(f"{base}{evaluation.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(base, {"action": "delete_selected", "_selected_action": [evaluation.pk], "post": "yes"})
    assert response.status_code in (200, 302)  # the action does not exist: the list is shown again
    assert admin_client.post(f"{base}{evaluation.pk}/change/", {"status": "failed"}).status_code == 403
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_every_model_admin_is_audited_by_the_site():
    assert isinstance(admin.site, AuditedAdminSite)
    assert all(isinstance(model_admin, AdminActionsAudited) for model_admin in admin.site._registry.values())


def test_a_site_policy_changed_in_the_admin_is_audited_with_the_admin(admin_client, superuser):
    policy = SitePolicy.objects.create(name="baseline", data={}, is_active=True)
    url = f"/admin/compliance/sitepolicy/{policy.pk}/change/"
    response = admin_client.post(url, {"name": "baseline-2", "data": "{}"})
    assert response.status_code == 302, response.content
    event = AuditEvent.objects.get(action="change", object_id=str(policy.pk))
    assert event.actor == superuser and event.actor_username == "alice" and event.ip == "192.0.2.10"
    assert event.changes["name"] == ["baseline", "baseline-2"]


def test_a_user_changed_in_the_admin_is_audited_once_with_the_admin(admin_client, superuser, charlie):
    url = f"/admin/auth/user/{charlie.pk}/change/"
    form = {
        "username": "charlie", "email": "charlie@example.test", "is_active": "on", "first_name": "Charles",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    assert admin_client.post(url, form).status_code == 302
    events = list(AuditEvent.objects.filter(action="change", object_id=str(charlie.pk)))
    assert len(events) == 1  # the user admin's own detailed event; the site does not add a second one
    assert events[0].actor == superuser and events[0].changes["first_name"] == ["", "Charles"]


def test_a_model_admin_we_did_not_write_is_audited_too(admin_client, superuser):
    # Django's group admin: add, change (with its permissions), and a bulk deletion of several groups at once.
    assert admin_client.post("/admin/auth/group/add/", {"name": "reviewers"}).status_code == 302
    group = Group.objects.get(name="reviewers")
    created = AuditEvent.objects.get(action="create", object_id=str(group.pk))
    assert created.actor == superuser and created.changes["name"] == [None, "reviewers"]

    assert admin_client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "approvers"}).status_code == 302
    changed = AuditEvent.objects.get(action="change", object_id=str(group.pk))
    assert changed.actor == superuser and changed.changes == {"name": ["reviewers", "approvers"]}

    other = Group.objects.create(name="spare")
    response = admin_client.post(
        "/admin/auth/group/", {"action": "delete_selected", "_selected_action": [group.pk, other.pk], "post": "yes"}
    )
    assert response.status_code == 302 and not Group.objects.filter(pk__in=[group.pk, other.pk]).exists()
    deleted = AuditEvent.objects.filter(action="delete", actor=superuser).order_by("object_repr")
    assert [(e.object_repr, e.changes["name"]) for e in deleted] == [("approvers", ["approvers", None]),
                                                                     ("spare", ["spare", None])]


def test_an_api_token_deleted_in_the_admin_is_audited_without_its_key(admin_client, superuser, bob):
    token = Token.objects.create(user=bob)
    url = f"/admin/authtoken/tokenproxy/{TokenProxy.objects.get(pk=token.pk).pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="delete", actor=superuser)
    # The key is the token's primary key: the trail names the token by a digest of it, never by the key itself.
    recorded = json.dumps([event.object_id, event.object_repr, event.changes])
    assert token.key not in recorded and event.object_id.startswith("sha256:")
    assert event.changes["user"] == [bob.pk, None]
