"""Evaluation resumes by itself: the sweeper re-sends lost evaluations, a snapshot sent twice is judged once, a
transient database error is retried, and an API failure answers JSON."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.test import Client
from django.utils import timezone

from compliance import services
from compliance.models import Evaluation
from compliance.tasks import evaluate_snapshot as evaluate_task
from compliance.tasks import sweep_evaluations
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db


def _stored(agent_token, snapshot_doc, index=0) -> Snapshot:
    snapshot = ingest_snapshot(snapshot_doc(index), agent_token[0]).snapshot
    Snapshot.objects.filter(pk=snapshot.pk).update(evaluation_status=EvaluationStatus.QUEUED)
    return snapshot


def test_it_sweeps_snapshots_left_queued_or_running(agent_token, snapshot_doc, monkeypatch):
    queued = _stored(agent_token, snapshot_doc, 0)
    running = _stored(agent_token, snapshot_doc, 1)
    fresh = _stored(agent_token, snapshot_doc, 2)
    long_ago = timezone.now() - datetime.timedelta(minutes=30)
    Snapshot.objects.filter(pk__in=[queued.pk, running.pk]).update(received_at=long_ago)
    Snapshot.objects.filter(pk=running.pk).update(evaluation_status=EvaluationStatus.RUNNING)
    assert sweep_evaluations() == 2
    statuses = dict(Snapshot.objects.values_list("pk", "evaluation_status"))
    assert statuses[queued.pk] == statuses[running.pk] == EvaluationStatus.DONE
    assert statuses[fresh.pk] == EvaluationStatus.QUEUED  # its task may still be on its way
    assert Evaluation.objects.filter(snapshot__in=[queued, running]).count() == 2


def test_it_judges_a_snapshot_once_when_two_runs_race(agent_token, snapshot_doc, monkeypatch):
    snapshot = _stored(agent_token, snapshot_doc)
    real_store = services.store_results

    def racing_store(snapshot, findings, policy_data, replace=True, **kwargs):
        # The other delivery of the same task stores its run first, while this one was judging.
        real_store(snapshot, findings, policy_data, replace=False, **kwargs)
        return real_store(snapshot, findings, policy_data, replace=replace, **kwargs)

    monkeypatch.setattr(services, "store_results", racing_store)
    assert services.evaluate_snapshot(snapshot.pk) == "done"
    assert Evaluation.objects.filter(snapshot=snapshot).count() == 1


def test_it_retries_a_connection_cut_during_the_results_copy(agent_token, snapshot_doc, monkeypatch):
    snapshot = _stored(agent_token, snapshot_doc)

    def cut(*args, **kwargs):
        raise psycopg.OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(services, "_insert_results", cut)
    with pytest.raises(psycopg.OperationalError):
        services.evaluate_snapshot(snapshot.pk)
    assert psycopg.OperationalError in evaluate_task.autoretry_for
    snapshot.refresh_from_db()
    assert snapshot.evaluation_status != EvaluationStatus.FAILED  # not failed for good: the task retries


def test_it_answers_json_when_the_api_breaks(settings, monkeypatch, alice):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("compliance.posture.api.compute_posture", broken)
    response = client.get("/api/v1/posture/cis-docker-1.6.0/")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
