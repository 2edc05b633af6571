"""The sweeper's rule: queued snapshots are re-sent only when no task waits in the broker (a backlog must not feed
itself); running ones always. And the count it reads is the broker's own (a real redis-server)."""

from __future__ import annotations

import datetime
import os
import shutil

import pytest
from django.utils import timezone

from compliance import tasks
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot
from inventory.services import ingest_snapshot
from tests.faults.conftest import Stack, sample_document


@pytest.mark.django_db
def test_queued_snapshots_wait_while_tasks_wait_in_the_broker(agent_token, monkeypatch):
    ids = [ingest_snapshot(sample_document(f"rule-{i}", i), agent_token[0]).snapshot.pk for i in range(2)]
    queued, running = ids
    Snapshot.objects.filter(pk__in=ids).update(received_at=timezone.now() - datetime.timedelta(hours=1))
    Snapshot.objects.filter(pk=queued).update(evaluation_status=EvaluationStatus.QUEUED)
    Snapshot.objects.filter(pk=running).update(evaluation_status=EvaluationStatus.RUNNING)

    monkeypatch.setattr(tasks, "waiting_tasks", lambda: 3)
    assert tasks.sweep_evaluations() == 1  # the running one: its worker may be dead
    statuses = dict(Snapshot.objects.filter(pk__in=ids).values_list("pk", "evaluation_status"))
    assert statuses == {queued: EvaluationStatus.QUEUED, running: EvaluationStatus.DONE}

    monkeypatch.setattr(tasks, "waiting_tasks", lambda: 0)
    assert tasks.sweep_evaluations() == 1
    assert Snapshot.objects.get(pk=queued).evaluation_status == EvaluationStatus.DONE

    monkeypatch.setattr(tasks, "waiting_tasks", lambda: None)  # the broker cannot say: sweep anyway
    Snapshot.objects.filter(pk=queued).update(evaluation_status=EvaluationStatus.QUEUED)
    assert tasks.sweep_evaluations() == 1


def test_waiting_tasks_reads_the_broker_queue(tmp_path, monkeypatch):
    if not shutil.which("redis-server"):
        if os.environ.get("PLIMSOLL_REQUIRE_BROKER"):
            pytest.fail("PLIMSOLL_REQUIRE_BROKER is set but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    import redis

    from plimsoll.celery import app

    stack = Stack(tmp=tmp_path, database={})
    stack.start_redis()
    eager = app.conf.task_always_eager
    try:
        app.conf.task_always_eager = False
        monkeypatch.setenv("CELERY_BROKER_URL", stack.broker_url)  # Celery reads it before its settings
        monkeypatch.delenv("CELERY_BROKER_READ_URL", raising=False)
        assert tasks.waiting_tasks() == 0  # Redis keeps no empty list: no queue is none waiting
        redis.Redis(port=stack.redis_port).rpush(app.conf.task_default_queue, "a", "b")
        assert tasks.waiting_tasks() == 2
        stack.stop_redis()
        assert tasks.waiting_tasks() is None  # the broker is away
    finally:
        app.conf.task_always_eager = eager
        stack.stop()
