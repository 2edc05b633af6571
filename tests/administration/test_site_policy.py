"""The site policy as a form: one field per setting, checked by the engine; the active policy is explicit; saving
offers a re-judging of stored snapshots, a task with progress, after which results and posture follow the policy."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from compliance.administration import services
from compliance.administration.models import Rejudge
from compliance.engine import BENCHMARK
from compliance.models import Result, SitePolicy
from compliance.posture.services import compute_posture
from compliance.services import evaluate_snapshot
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db

URL = "/administration/policy/"
EMPTY = {name: "" for name in (
    "trusted_docker_users", "trusted_registries", "allowed_host_ports", "expected_cgroup_parent", "expected_ulimits",
    "max_unused_images", "max_stopped_containers", "swarm_mode_needed", "max_node_cert_expiry_days",
)}


def test_it_saves_every_setting_in_the_engines_form_and_audits_it(admin_client, alice):
    response = admin_client.post(URL, {
        **EMPTY, "trusted_docker_users": "deploy\n ops \n\n", "trusted_registries": "Registry.Example.com/\ndocker.io/library",
        "allowed_host_ports": "443\n8000-8099", "expected_cgroup_parent": "/docker",
        "expected_ulimits": "nofile=1024:2048\nnproc=512",
        "max_unused_images": "3", "max_stopped_containers": "0", "swarm_mode_needed": "no", "max_node_cert_expiry_days": "90",
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    policy = SitePolicy.objects.get(is_active=True)
    assert policy.data == {
        "trusted_docker_users": ["deploy", "ops"], "trusted_registries": ["registry.example.com", "docker.io/library"],
        "allowed_host_ports": ["443", "8000-8099"], "expected_cgroup_parent": "/docker",
        "expected_ulimits": {"nofile": "1024:2048", "nproc": "512:512"}, "max_unused_images": 3,
        "max_stopped_containers": 0, "swarm_mode_needed": False, "max_node_cert_expiry_days": 90,
    }
    assert SitePolicy.current_data() == policy.data
    event = AuditEvent.objects.get(action="create", content_type__model="sitepolicy")
    assert event.actor == alice and event.changes["max_unused_images"] == [None, 3]

    page = admin_client.get(URL).content.decode()
    assert "deploy\nops</textarea>" in page and 'value="/docker"' in page and "nofile=1024:2048" in page

    assert admin_client.post(URL, {**EMPTY, "trusted_docker_users": "deploy"}).status_code == 302
    change = AuditEvent.objects.get(action="change", content_type__model="sitepolicy")
    assert change.changes["trusted_docker_users"] == [["deploy", "ops"], ["deploy"]]
    assert change.changes["max_unused_images"] == [3, None]
    assert SitePolicy.objects.get().data == {"trusted_docker_users": ["deploy"]}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("allowed_host_ports", "443\nhttps", "'https' is not a port number"),
    ("allowed_host_ports", "9000-8000", "is reversed"),
    ("allowed_host_ports", "70000", "out of range"),
    ("expected_ulimits", "nofile", "expected name=soft:hard"),
    ("expected_ulimits", "nofile=lots", "expected 'soft:hard'"),
    ("expected_ulimits", "nofile=1:2\nnofile=3:4", "given twice"),
    ("max_unused_images", "-1", "greater than or equal to 0"),
    ("max_stopped_containers", "many", "whole number"),
    ("swarm_mode_needed", "perhaps", "valid choice"),
    ("expected_cgroup_parent", "x" * 300, "at most 255"),
])
def test_it_refuses_a_bad_setting_with_an_error_on_its_field(admin_client, field, value, message):
    response = admin_client.post(URL, {**EMPTY, field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in " ".join(errors[field]), errors
    assert not SitePolicy.objects.exists()


def test_only_the_active_policy_applies_and_two_cannot_be_active(alice):
    SitePolicy.objects.create(name="default", is_active=False, data={"max_unused_images": 1})
    assert SitePolicy.current_data() == {}
    other = SitePolicy.objects.create(name="strict", data={"max_unused_images": 0})
    assert SitePolicy.current_data() == {"max_unused_images": 0}  # named anything: it applies because it is active
    with pytest.raises(IntegrityError), transaction.atomic():
        SitePolicy.objects.create(name="third", is_active=True)

    default = SitePolicy.objects.get(name="default")
    services.activate_policy(default.pk, by=alice)
    assert SitePolicy.current_data() == {"max_unused_images": 1}
    other.refresh_from_db()
    assert not other.is_active
    changes = {e.object_repr: e.changes for e in AuditEvent.objects.filter(content_type__model="sitepolicy")}
    assert changes == {"strict (inactive)": {"is_active": [True, False]}, "default": {"is_active": [False, True]}}


def test_the_page_names_the_policy_that_applies_and_offers_the_others(admin_client):
    SitePolicy.objects.create(name="default", data={"max_unused_images": 1})
    SitePolicy.objects.create(name="draft", is_active=False, data={"max_unused_images": 9})
    page = admin_client.get(URL).content.decode()
    assert "<strong>default</strong>" in page and "Apply draft instead" in page and 'value="1"' in page
    draft = SitePolicy.objects.get(name="draft")
    assert admin_client.post(f"/administration/policy/{draft.pk}/activate/").status_code == 302
    assert SitePolicy.current_data() == {"max_unused_images": 9}


def _docker_group_host(agent_token, snapshot_doc, name: str = "web") -> Snapshot:  # type: ignore[no-untyped-def]
    doc = snapshot_doc()
    doc["host"]["machine_id"] = f"machine-{name}"
    doc["host"]["hostname"] = name
    doc["host"]["groups"] = {"docker": {"gid": 998, "members": ["deploy", "ops"]}}
    snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
    evaluate_snapshot(snapshot.pk)
    return snapshot


def _status_112() -> set[str]:
    return set(Result.objects.filter(control="1.1.2", is_current=True).values_list("status", flat=True))


def test_rejudging_makes_results_and_posture_follow_the_new_policy(admin_client, alice, agent_token, snapshot_doc,
                                                                   catalogs, django_capture_on_commit_callbacks):
    _docker_group_host(agent_token, snapshot_doc, "web")
    _docker_group_host(agent_token, snapshot_doc, "db")
    assert _status_112() == {"manual"}
    assert compute_posture(BENCHMARK).requirement("1.1.2").status == "needs_evidence"

    assert admin_client.post(URL, {**EMPTY, "trusted_docker_users": "deploy\nops"}).status_code == 302
    assert _status_112() == {"manual"}  # saving alone changes no stored result: the page offers to re-judge
    assert "Re-judge 2 snapshots" in admin_client.get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/administration/policy/rejudge/")
    run = Rejudge.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/administration/policy/rejudge/{run.pk}/"
    assert (run.status, run.total, run.done, run.failed) == ("done", 2, 2, 0)
    assert run.policy == {"trusted_docker_users": ["deploy", "ops"]} and run.requested_by == alice
    assert _status_112() == {"pass"}
    assert compute_posture(BENCHMARK).requirement("1.1.2").status == "passing"
    status = admin_client.get(f"/administration/policy/rejudge/{run.pk}/status/").json()
    assert status["status"] == "done" and status["percent"] == 100 and status["done"] == 2
    page = admin_client.get(f"/administration/policy/rejudge/{run.pk}/").content.decode()
    assert 'data-rejudge-status="/administration/policy/rejudge/' in page and "plimsoll/administration.js" in page
    assert AuditEvent.objects.filter(action="create", content_type__model="rejudge", actor=alice).exists()


def test_the_run_counts_progress_as_it_goes_and_resumes(alice, agent_token, snapshot_doc, monkeypatch):
    snapshots = [_docker_group_host(agent_token, snapshot_doc, f"h{i}") for i in range(3)]
    run = Rejudge.objects.create(snapshot_ids=[s.pk for s in snapshots], total=3, requested_by=alice)
    seen: list[tuple[int, str]] = []

    def judge(snapshot_id: int, force: bool = False) -> str:
        row = Rejudge.objects.get(pk=run.pk)
        seen.append((row.done, row.status))
        assert force
        return "failed" if snapshot_id == snapshots[1].pk else "done"

    monkeypatch.setattr("compliance.services.evaluate_snapshot", judge)
    Rejudge.objects.filter(pk=run.pk).update(done=1)  # a retried task: the first snapshot was counted already
    assert services.run_rejudge(run.pk) == "done"

    assert seen == [(1, "running"), (2, "running")]
    run.refresh_from_db()
    assert (run.status, run.done, run.failed, run.percent) == ("done", 3, 1, 100) and run.finished_at
    assert services.run_rejudge(run.pk) == "finished" and len(seen) == 2


def test_a_broken_run_stops_failed_with_its_reason(alice, monkeypatch):
    run = Rejudge.objects.create(snapshot_ids=[1, 2], total=2, requested_by=alice)

    def broken(snapshot_id: int, force: bool = False) -> str:
        raise ValueError("disk on fire")

    monkeypatch.setattr("compliance.services.evaluate_snapshot", broken)
    assert services.run_rejudge(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "ValueError: disk on fire" and run.done == 0


def test_one_run_at_a_time(admin_client, alice):
    running = Rejudge.objects.create(status="running", total=5, requested_by=alice)
    response = admin_client.post("/administration/policy/rejudge/")
    assert response.status_code == 302 and response["Location"] == f"/administration/policy/rejudge/{running.pk}/"
    assert Rejudge.objects.count() == 1


def test_it_rejudges_the_standing_and_the_newest_snapshot_of_each_host(agent_token, snapshot_doc):
    judged = _docker_group_host(agent_token, snapshot_doc, "web")
    doc = snapshot_doc()
    doc["host"]["machine_id"] = "machine-web"
    doc["host"]["hostname"] = "web"
    doc["agent"]["collected_at"] = (judged.collected_at + datetime.timedelta(minutes=5)).isoformat()
    newest = ingest_snapshot(doc, agent_token[0]).snapshot
    assert newest.evaluation_status == EvaluationStatus.QUEUED
    assert services.snapshots_to_rejudge() == sorted([judged.pk, newest.pk])


def test_only_admins_edit_the_policy_or_start_a_run(bob, carol):
    from django.test import Client

    for user in (bob, carol):
        client = Client()
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {**EMPTY, "max_unused_images": "1"}).status_code == 403
        assert client.post("/administration/policy/rejudge/").status_code == 403
    assert not SitePolicy.objects.exists() and not Rejudge.objects.exists()


def test_the_django_admin_keeps_one_active_policy(alice):
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.filter(pk=alice.pk).update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(pk=alice.pk))
    add = "/admin/compliance/sitepolicy/add/"
    assert client.post(add, {"name": "default", "data": '{"max_unused_images": 2}'}).status_code == 302
    assert client.post(add, {"name": "draft", "data": '{"max_unused_images": 7}'}).status_code == 302
    assert dict(SitePolicy.objects.values_list("name", "is_active")) == {"default": True, "draft": False}
    refused = client.post(add, {"name": "bad", "data": '{"max_unused_images": -1}'})
    assert refused.status_code == 200 and "non-negative integer" in refused.content.decode()

    draft = SitePolicy.objects.get(name="draft")
    response = client.post("/admin/compliance/sitepolicy/", {"action": "make_active", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    assert SitePolicy.current_data() == {"max_unused_images": 7}
    assert AuditEvent.objects.filter(content_type__model="sitepolicy", changes__is_active=[False, True], actor=alice).exists()


def test_the_index_links_every_section(admin_client, agent_token, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = admin_client.get("/administration/")
    html = page.content.decode()
    for url in ("/administration/agents/", "/administration/users/", "/administration/policy/",
                "/administration/agents/enrol/", "/administration/users/new/"):
        assert f'href="{url}"' in html, url
    assert "1 active token" in html


def test_a_broker_that_is_away_leaves_the_run_failed_with_its_reason(admin_client, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    def away(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis is down")

    monkeypatch.setattr("compliance.administration.tasks.rejudge_snapshots.delay", away)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/administration/policy/rejudge/")
    run = Rejudge.objects.get()
    assert response.status_code == 302
    assert run.status == "failed" and "redis is down" in run.error
    assert admin_client.get(f"/administration/policy/rejudge/{run.pk}/status/").json()["status"] == "failed"
