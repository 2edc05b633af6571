"""The snapshot that stands for a host at a moment: its latest judged one. Filters, reevaluate and posture read it."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from compliance.engine import CheckResult, Status
from compliance.models import Evaluation
from compliance.services import store_results
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def snap(agent_token: Any, snapshot_doc: Callable[..., dict[str, Any]]) -> Callable[..., Snapshot]:
    """snap("web", T0, "done") -> a stored snapshot of host `web` collected at T0, with that evaluation status."""

    def make(name: str, at: datetime.datetime, status: str = EvaluationStatus.QUEUED) -> Snapshot:
        doc = snapshot_doc()
        doc["host"]["machine_id"] = f"machine-{name}"
        doc["host"]["hostname"] = name
        doc["agent"]["collected_at"] = at.isoformat()
        snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
        Snapshot.objects.filter(pk=snapshot.pk).update(evaluation_status=status)
        return snapshot

    return make


def standing_ids(at: datetime.datetime | None = None) -> set[int]:
    return set(Snapshot.objects.standing(at).values_list("pk", flat=True))


def test_it_stands_for_a_host_with_its_latest_judged_snapshot(snap):
    judged = snap("web", T0, EvaluationStatus.DONE)
    queued = snap("web", T0 + HOUR)
    assert Host.objects.get().last_snapshot_id == queued.pk
    assert standing_ids() == {judged.pk}
    Snapshot.objects.filter(pk=queued.pk).update(evaluation_status=EvaluationStatus.FAILED)
    assert standing_ids() == {judged.pk}
    Snapshot.objects.filter(pk=queued.pk).update(evaluation_status=EvaluationStatus.DONE)
    assert standing_ids() == {queued.pk}


def test_it_reads_the_standing_snapshot_as_of_a_moment(snap):
    first = snap("web", T0, EvaluationStatus.DONE)
    second = snap("web", T0 + 2 * HOUR, EvaluationStatus.DONE)
    other = snap("db", T0 + HOUR, EvaluationStatus.DONE)
    assert standing_ids(T0 - HOUR) == set()
    assert standing_ids(T0) == {first.pk}
    assert standing_ids(T0 + HOUR) == {first.pk, other.pk}
    assert standing_ids(T0 + 2 * HOUR) == standing_ids() == {second.pk, other.pk}


def test_it_annotates_each_host_with_its_standing_snapshot(snap):
    judged = snap("web", T0, EvaluationStatus.DONE)
    snap("web", T0 + HOUR)
    never = snap("db", T0)
    rows = dict(Host.objects.annotate(snapshot_id=Snapshot.objects.standing_id()).values_list("id", "snapshot_id"))
    assert rows == {judged.host_id: judged.pk, never.host_id: None}
    rows = dict(Host.objects.annotate(snapshot_id=Snapshot.objects.standing_id(T0 - HOUR)).values_list("id", "snapshot_id"))
    assert rows == {judged.host_id: None, never.host_id: None}


def test_it_breaks_a_tie_of_collection_times_by_the_newest_id(snap, snapshot_doc, agent_token):
    first = snap("web", T0, EvaluationStatus.DONE)
    doc = snapshot_doc()
    doc["host"]["machine_id"], doc["host"]["hostname"] = "machine-web", "web"
    doc["agent"]["collected_at"] = T0.isoformat()
    doc["agent"]["errors"] = [{"collector": "files", "error": "another document, the same moment"}]
    second = ingest_snapshot(doc, agent_token[0]).snapshot
    Snapshot.objects.filter(pk=second.pk).update(evaluation_status=EvaluationStatus.DONE)
    assert second.pk > first.pk and standing_ids() == {second.pk}


@pytest.mark.parametrize("hosts", [1, 5])
def test_it_costs_one_query_whatever_the_number_of_hosts(snap, hosts, django_assert_num_queries):
    for i in range(hosts):
        snap(f"h{i}", T0, EvaluationStatus.DONE)
        snap(f"h{i}", T0 + HOUR)
    with django_assert_num_queries(1):
        assert len(list(Snapshot.objects.standing(T0 + HOUR))) == hosts


def _judge(snapshot: Snapshot) -> None:
    finding = CheckResult(control="2.1", target_kind="host", target_name="h", target_id="h", status=Status.FAIL,
                          evidence={}, expected="", message="")
    store_results(snapshot, [finding], {})


def test_the_latest_filters_read_the_standing_snapshot(snap, bob, api_client_for):
    judged = snap("web", T0)
    _judge(judged)
    queued = snap("web", T0 + HOUR)
    client = api_client_for(bob)
    snapshots = client.get("/api/v1/snapshots/", {"latest": "true"}).json()
    assert [s["id"] for s in snapshots["results"]] == [judged.pk]
    containers = client.get("/api/v1/containers/", {"latest": "true"}).json()
    assert {c["snapshot"] for c in containers["results"]} == {judged.pk}
    assert containers["count"] == judged.container_count
    results = client.get("/api/v1/results/", {"latest": "true"}).json()
    assert results["count"] == 1 and results["results"][0]["snapshot"] == judged.pk
    every = client.get("/api/v1/snapshots/", {"latest": "false"}).json()["results"]
    assert {s["id"] for s in every} == {judged.pk, queued.pk}


def test_reevaluate_judges_the_standing_and_the_newest_snapshot_by_default(snap):
    old = snap("web", T0 - HOUR, EvaluationStatus.DONE)
    standing = snap("web", T0, EvaluationStatus.DONE)
    newest = snap("web", T0 + HOUR)
    only = snap("db", T0, EvaluationStatus.DONE)
    out = io.StringIO()
    call_command("reevaluate", stdout=out)
    judged = set(Evaluation.objects.values_list("snapshot_id", flat=True))
    assert judged == {standing.pk, newest.pk, only.pk}
    assert old.pk not in judged
    assert "3 done" in out.getvalue()
    assert standing_ids() == {newest.pk, only.pk}
