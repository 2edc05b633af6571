"""Evaluation on ingest: the task stores results in bulk, marks the snapshot, is idempotent, and keeps history."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from compliance.engine import ENGINE_VERSION, evaluate
from compliance.models import Evaluation, Result, SitePolicy
from compliance.services import evaluate_snapshot
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db


def test_it_evaluates_a_snapshot_when_the_ingest_commits(agent_client, snapshot_doc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.generic(
            "POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()), content_type="application/json"
        )
    assert response.status_code == 201
    snapshot = Snapshot.objects.get(pk=response.json()["id"])
    assert snapshot.evaluation_status == EvaluationStatus.DONE
    assert snapshot.evaluated_at is not None
    run = snapshot.evaluations.get()
    assert run.is_current and run.engine_version == ENGINE_VERSION
    expected = evaluate(snapshot.document)
    assert snapshot.results.count() == len(expected)
    assert set(snapshot.results.values_list("control", flat=True)) == {r.control for r in expected}
    assert sum(run.counts.values()) == len(expected)


def test_it_judges_every_container_stopped_ones_too(agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    evaluate_snapshot(snapshot.pk)
    stopped = snapshot.containers.filter(running=False)
    assert stopped.exists()
    for container in stopped:
        states = set(
            Result.objects.filter(snapshot=snapshot, target_kind="container", target_id=container.container_id)
            .values_list("target_state", flat=True)
        )
        assert states == {container.state}


def test_it_is_idempotent_for_one_engine_version(agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    assert evaluate_snapshot(snapshot.pk) == "done"
    count = Result.objects.count()
    assert evaluate_snapshot(snapshot.pk) == "skipped"
    assert Result.objects.count() == count
    assert Evaluation.objects.count() == 1


def test_it_keeps_old_results_when_it_reevaluates(agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    evaluate_snapshot(snapshot.pk)
    first = Result.objects.count()
    out = io.StringIO()
    call_command("reevaluate", "--force", stdout=out)
    assert "1 done" in out.getvalue()
    assert Evaluation.objects.count() == 2
    assert Evaluation.objects.filter(is_current=True).count() == 1
    assert Result.objects.count() == 2 * first
    assert Result.objects.filter(is_current=True).count() == first


def test_it_uses_the_site_policy(agent_token, snapshot_doc):
    doc = snapshot_doc()
    members = ["deploy", "ops"]
    doc["host"]["groups"] = {"docker": {"gid": 998, "members": members}}
    snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
    evaluate_snapshot(snapshot.pk)
    assert Result.objects.get(control="1.1.2", is_current=True).status == "manual"
    SitePolicy.objects.create(data={"trusted_docker_users": members})
    evaluate_snapshot(snapshot.pk, force=True)
    current = Result.objects.get(control="1.1.2", is_current=True)
    assert current.status == "pass"
    assert current.evaluation.policy == {"trusted_docker_users": members}


def test_it_marks_the_snapshot_failed_with_the_reason_when_the_engine_breaks(agent_token, snapshot_doc, monkeypatch):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot

    def broken(document, policy=None):
        raise ValueError("rule 5.5 tripped on this input")

    monkeypatch.setattr("compliance.services.evaluate", broken)
    assert evaluate_snapshot(snapshot.pk) == "failed"
    snapshot.refresh_from_db()
    assert snapshot.evaluation_status == EvaluationStatus.FAILED
    assert "rule 5.5 tripped" in snapshot.evaluation_error
    assert not Result.objects.exists()


def test_it_returns_early_for_a_snapshot_that_is_gone():
    assert evaluate_snapshot(987654) == "missing"


def test_it_marks_the_snapshot_failed_when_storing_results_breaks(agent_token, snapshot_doc, monkeypatch):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot

    def broken(*args, **kwargs):
        raise ValueError("value too long for a column")

    monkeypatch.setattr("compliance.services._insert_results", broken)
    assert evaluate_snapshot(snapshot.pk) == "failed"
    snapshot.refresh_from_db()
    assert snapshot.evaluation_status == EvaluationStatus.FAILED
    assert "storing results: ValueError" in snapshot.evaluation_error
    assert not Evaluation.objects.filter(snapshot=snapshot, is_current=True).exists()


def test_it_sends_stuck_snapshots_to_the_queue_again(agent_token, snapshot_doc):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    Snapshot.objects.filter(pk=snapshot.pk).update(evaluation_status=EvaluationStatus.RUNNING)
    out = io.StringIO()
    call_command("evaluate_pending", "--older-than", "0", stdout=out)
    assert "Enqueued 1" in out.getvalue()
    snapshot.refresh_from_db()
    assert snapshot.evaluation_status == EvaluationStatus.DONE


def test_it_keeps_a_judged_snapshot_standing_while_a_rerun_fails(agent_token, snapshot_doc, monkeypatch):
    snapshot = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    evaluate_snapshot(snapshot.pk)
    results = Result.objects.filter(is_current=True).count()

    def broken(*args, **kwargs):
        raise ValueError("a rule broke")

    monkeypatch.setattr("compliance.services.evaluate", broken)
    assert evaluate_snapshot(snapshot.pk, force=True) == "failed"
    snapshot.refresh_from_db()
    assert snapshot.evaluation_status == EvaluationStatus.DONE
    assert list(Snapshot.objects.standing()) == [snapshot]
    assert Result.objects.filter(is_current=True).count() == results
    assert Evaluation.objects.filter(status=EvaluationStatus.FAILED).count() == 1
