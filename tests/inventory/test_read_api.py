"""The read API for people: hosts, snapshots and containers; auth, filters, pagination, query counts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot
from inventory.services import ingest_snapshot, set_host_labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(snapshot_doc, agent_token):
    """Every sample snapshot ingested once: one host each."""
    from tests.conftest import sample_snapshots

    return [ingest_snapshot(snapshot_doc(i), agent_token[0]).snapshot for i in range(len(sample_snapshots()))]


def test_it_requires_a_login(estate):
    for url in ("/api/v1/hosts/", "/api/v1/snapshots/", "/api/v1/containers/"):
        response = APIClient().get(url)
        assert response.status_code == 401, url
        assert response.json()["error"] == "not_authenticated"


def test_it_refuses_an_agent_token_on_people_endpoints(estate, agent_client):
    assert agent_client.get("/api/v1/snapshots/").status_code in (401, 403)
    assert agent_client.get("/api/v1/hosts/").status_code == 401


def test_it_lists_hosts_for_an_auditor(estate, bob, api_client_for):
    response = api_client_for(bob).get("/api/v1/hosts/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(estate) == Host.objects.count()
    first = body["results"][0]
    host = Host.objects.get(pk=first["id"])
    assert first["last_snapshot"] == host.last_snapshot_id
    assert first["last_snapshot_container_count"] == host.last_snapshot.container_count


def test_it_filters_hosts_by_hostname_and_label(estate, bob, api_client_for):
    host = estate[0].host
    set_host_labels(host.pk, {"env": "prod", "pci": "cde"}, by=None)
    client = api_client_for(bob)
    assert [h["id"] for h in client.get("/api/v1/hosts/", {"hostname": host.hostname}).json()["results"]] == [host.pk]
    assert [h["id"] for h in client.get("/api/v1/hosts/", {"label": "env=prod"}).json()["results"]] == [host.pk]
    assert [h["id"] for h in client.get("/api/v1/hosts/", {"label": "pci"}).json()["results"]] == [host.pk]
    assert client.get("/api/v1/hosts/", {"label": "env=dev"}).json()["count"] == 0


def test_it_lists_snapshots_without_their_documents(estate, bob, api_client_for):
    body = api_client_for(bob).get("/api/v1/snapshots/", {"host": estate[0].host_id}).json()
    assert body["count"] == 1
    assert "document" not in body["results"][0]
    assert body["results"][0]["sha256"] == estate[0].sha256


def test_it_returns_the_whole_document_of_one_snapshot(estate, bob, api_client_for):
    body = api_client_for(bob).get(f"/api/v1/snapshots/{estate[0].pk}/").json()
    assert body["document"] == Snapshot.objects.get(pk=estate[0].pk).document


def test_it_filters_containers(estate, bob, api_client_for):
    client = api_client_for(bob)
    snapshot = estate[0]
    body = client.get("/api/v1/containers/", {"snapshot": snapshot.pk}).json()
    assert body["count"] == snapshot.container_count
    running = client.get("/api/v1/containers/", {"snapshot": snapshot.pk, "running": "true"}).json()
    assert running["count"] == snapshot.running_count
    assert client.get("/api/v1/containers/", {"latest": "true"}).json()["count"] == 0  # nothing judged yet
    Snapshot.objects.update(evaluation_status=EvaluationStatus.DONE)
    latest = client.get("/api/v1/containers/", {"latest": "true"}).json()
    assert latest["count"] == sum(s.container_count for s in estate)


def test_it_paginates_in_a_stable_order(estate, bob, api_client_for):
    client = api_client_for(bob)
    total = client.get("/api/v1/containers/").json()["count"]
    seen = []
    url = "/api/v1/containers/?page_size=2"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == total > 2


def test_it_lists_containers_in_a_bounded_number_of_queries(estate, bob, api_client_for, django_assert_max_num_queries):
    client = api_client_for(bob)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/containers/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/hosts/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/snapshots/").status_code == 200


def test_it_lists_images_with_the_filters_of_the_image_list(estate, bob, charlie, api_client_for, django_assert_max_num_queries):
    client = api_client_for(bob)
    body = client.get("/api/v1/images/").json()
    assert body["count"] == sum(s.image_count for s in estate) > 0
    first = body["results"][0]
    assert {"hostname", "tags", "image_id", "snapshot"} <= set(first)
    detail = client.get(f"/api/v1/images/{first['id']}/").json()
    assert detail["raw"]["Id"] == first["image_id"] and "history" in detail
    host = estate[0].host
    set_host_labels(host.pk, {"env": "prod"}, by=None)
    assert {i["hostname"] for i in client.get("/api/v1/images/", {"label": "env=prod"}).json()["results"]} == {host.hostname}
    assert client.get("/api/v1/images/", {"image": "no-such-image"}).json()["count"] == 0
    assert client.get("/api/v1/images/", {"label": "env=("}).status_code == 400
    assert api_client_for(charlie).get("/api/v1/images/").status_code == 403
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/images/").status_code == 200


def test_it_serves_the_openapi_schema_and_docs(bob, api_client_for):
    client = api_client_for(bob)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/snapshots/" in schema.json()["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_it_refuses_a_user_without_a_role(estate, charlie, api_client_for):
    client = api_client_for(charlie)
    for url in ("/api/v1/hosts/", "/api/v1/snapshots/", "/api/v1/containers/", "/api/v1/results/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"] == "permission_denied"


def test_it_lets_an_admin_set_host_labels_and_audits_it(estate, alice, bob, api_client_for):
    from audit.models import AuditEvent

    host = estate[0].host
    url = f"/api/v1/hosts/{host.pk}/labels/"
    assert api_client_for(bob).put(url, {"labels": {"pci": "cde"}}, format="json").status_code == 403
    response = api_client_for(alice).put(url, {"labels": {"pci": "cde", "env": "prod"}}, format="json")
    assert response.status_code == 200 and response.json()["labels"] == {"pci": "cde", "env": "prod"}
    assert Host.objects.get(pk=host.pk).labels == {"pci": "cde", "env": "prod"}
    event = AuditEvent.objects.get(action="change", object_id=str(host.pk))
    assert event.actor_username == "alice" and event.changes["labels"][1] == {"pci": "cde", "env": "prod"}
    bad = api_client_for(alice).put(url, {"labels": {"bad key": "x"}}, format="json")
    assert bad.status_code == 400 and bad.json()["detail"]["path"] == "labels.bad key"
    assert Host.objects.get(pk=host.pk).labels == {"pci": "cde", "env": "prod"}
