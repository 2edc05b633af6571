"""A real Celery worker on CELERY_BROKER_URL executes the evaluation task that the ingest path sends."""

from __future__ import annotations

import json
import os
import time

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from inventory.choices import EvaluationStatus
from inventory.models import Snapshot

needs_broker = pytest.mark.skipif(
    not settings.PLIMSOLL_BROKER_CONFIGURED and not os.environ.get("PLIMSOLL_REQUIRE_BROKER"),
    reason="CELERY_BROKER_URL is not set (tasks run in-process); .ci/run sets it to Redis",
)


@needs_broker
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_it_evaluates_an_ingested_snapshot_on_a_real_worker(agent_token, snapshot_doc):
    from celery.contrib.testing.worker import start_worker

    from plimsoll.celery import app

    assert not app.conf.task_always_eager, "this test must go through the broker"
    assert settings.PLIMSOLL_BROKER_CONFIGURED, "PLIMSOLL_REQUIRE_BROKER is set but CELERY_BROKER_URL is not"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token[1]}")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        response = client.generic("POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()), content_type="application/json")
        assert response.status_code == 201
        assert response.json()["evaluation"] == "queued"
        snapshot_id = response.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = Snapshot.objects.get(pk=snapshot_id).evaluation_status
            if status in (EvaluationStatus.DONE, EvaluationStatus.FAILED):
                break
            time.sleep(0.2)
    snapshot = Snapshot.objects.get(pk=snapshot_id)
    assert snapshot.evaluation_status == EvaluationStatus.DONE, snapshot.evaluation_error
    assert snapshot.results.filter(is_current=True).count() > 0
