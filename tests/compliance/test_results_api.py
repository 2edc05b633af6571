"""GET /api/v1/results/: filters by host, container, image, control, status, snapshot and latest."""

from __future__ import annotations

import datetime

import pytest

from compliance.models import Result
from compliance.services import evaluate_snapshot
from inventory.services import ingest_snapshot
from tests.conftest import sample_snapshots

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged(agent_token, snapshot_doc):
    snapshots = []
    for i in range(len(sample_snapshots())):
        snapshot = ingest_snapshot(snapshot_doc(i), agent_token[0]).snapshot
        evaluate_snapshot(snapshot.pk)
        snapshots.append(snapshot)
    return snapshots


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_it_filters_by_control_status_and_host(judged, bob, api_client_for):
    client = api_client_for(bob)
    snapshot = judged[0]
    body = client.get("/api/v1/results/", {"host": snapshot.host_id, "control": "5.5", "page_size": 500}).json()
    expected = Result.objects.filter(host=snapshot.host, control="5.5", is_current=True)
    assert body["count"] == expected.count() > 0
    failing = client.get("/api/v1/results/", {"status": "fail", "control": "5.5"}).json()
    assert failing["count"] == Result.objects.filter(status="fail", control="5.5").count()
    assert all(r["status"] == "fail" for r in failing["results"])


def test_it_filters_by_container_and_image(judged, bob, api_client_for):
    client = api_client_for(bob)
    container = judged[0].containers.first()
    by_name = client.get("/api/v1/results/", {"container": container.name, "snapshot": judged[0].pk}).json()
    assert by_name["count"] > 0
    assert {r["target"]["id"] for r in by_name["results"]} == {container.container_id}
    image = judged[0].images.first()
    by_image = client.get("/api/v1/results/", {"image": image.image_id[:19]}).json()
    assert by_image["count"] > 0
    assert all(r["target"]["kind"] == "image" for r in by_image["results"])


def test_it_keeps_to_the_latest_snapshot_of_each_host(judged, agent_token, snapshot_doc, bob, api_client_for):
    newer = snapshot_doc(0)
    newer["agent"]["collected_at"] = datetime.datetime.now(datetime.UTC).isoformat()
    latest = ingest_snapshot(newer, agent_token[0]).snapshot
    evaluate_snapshot(latest.pk)
    client = api_client_for(bob)
    body = client.get("/api/v1/results/", {"latest": "true", "host": latest.host_id}).json()
    assert body["count"] == latest.results.count()
    assert {r["snapshot"] for r in body["results"]} == {latest.pk}


def test_it_carries_the_evidence_of_each_result(judged, bob, api_client_for):
    result = Result.objects.filter(status="fail").first()
    body = api_client_for(bob).get(f"/api/v1/results/{result.pk}/").json()
    assert body["evidence"] == result.evidence and body["evidence"]
    assert body["message"] == result.message
    assert body["target"]["kind"] == result.target_kind


def test_it_lists_results_in_a_bounded_number_of_queries(judged, bob, api_client_for, django_assert_max_num_queries):
    client = api_client_for(bob)
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/results/", {"page_size": 200}).status_code == 200


def test_it_refuses_a_bad_status_filter(judged, bob, api_client_for):
    response = api_client_for(bob).get("/api/v1/results/", {"status": "great"})
    assert response.status_code == 400
    assert "status" in response.json()["detail"]
