"""Snapshot retention: off by default; when set, old snapshots go, each host's latest stays."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from inventory.choices import EvaluationStatus
from inventory.models import Container, Host, Snapshot
from inventory.services import ingest_snapshot, prune_snapshots

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(agent_token, snapshot_doc):
    snapshots = []
    for day in ("2026-01-01", "2026-06-01", "2026-11-30"):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"{day}T00:00:00Z"
        snapshots.append(ingest_snapshot(doc, agent_token[0]).snapshot)
    return snapshots


def test_it_deletes_nothing_by_default(history):
    assert prune_snapshots() == 0
    out = io.StringIO()
    call_command("prune_snapshots", stdout=out)
    assert "nothing deleted" in out.getvalue()
    assert Snapshot.objects.count() == 3


def test_it_deletes_old_snapshots_but_keeps_each_hosts_latest(history, settings):
    settings.PLIMSOLL_SNAPSHOT_RETENTION_DAYS = 30
    _, _, latest = history
    assert prune_snapshots() == 2
    assert list(Snapshot.objects.values_list("pk", flat=True)) == [latest.pk]
    assert not Container.objects.exclude(snapshot=latest).exists()


def test_it_keeps_the_latest_even_when_it_is_older_than_the_period(agent_token, snapshot_doc):
    doc = snapshot_doc()
    doc["agent"]["collected_at"] = "2020-01-01T00:00:00Z"
    only = ingest_snapshot(doc, agent_token[0]).snapshot
    assert prune_snapshots(retention_days=1) == 0
    assert Snapshot.objects.filter(pk=only.pk).exists()


def test_it_keeps_the_judged_snapshot_that_stands_for_a_host_whose_newer_one_is_queued(history):
    first, judged, queued = history
    Snapshot.objects.filter(pk__in=[first.pk, judged.pk]).update(evaluation_status=EvaluationStatus.DONE)
    assert Host.objects.get().last_snapshot_id == queued.pk
    out = io.StringIO()
    call_command("prune_snapshots", "--days", "30", stdout=out)
    assert "Deleted 1 snapshot(s)" in out.getvalue()
    assert set(Snapshot.objects.values_list("pk", flat=True)) == {judged.pk, queued.pk}


def test_it_keeps_a_snapshot_being_judged(history):
    first, _, _ = history
    Snapshot.objects.filter(pk=first.pk).update(evaluation_status=EvaluationStatus.RUNNING)
    assert prune_snapshots(retention_days=30) == 1
    assert Snapshot.objects.filter(pk=first.pk).exists()
