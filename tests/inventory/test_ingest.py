"""POST /api/v1/snapshots/: every answer of the ingest API, and what it leaves in the database."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from inventory.models import AgentToken, Container, Host, Image, Network, Snapshot
from inventory.snapshot_format import canonical_bytes

URL = "/api/v1/snapshots/"
pytestmark = pytest.mark.django_db


def post(client: APIClient, body: bytes | dict[str, Any], **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("POST", URL, data=data, content_type="application/json", **headers)


def stored_counts() -> tuple[int, int, int, int, int]:
    return (
        Host.objects.count(), Snapshot.objects.count(), Container.objects.count(),
        Image.objects.count(), Network.objects.count(),
    )


def test_it_stores_a_podman_snapshot(agent_client, agent_token, snapshot_doc):
    doc = snapshot_doc()
    response = post(agent_client, doc)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "host", "received_at", "evaluation"}
    snapshot = Snapshot.objects.get(pk=body["id"])
    assert snapshot.host_id == body["host"]
    assert snapshot.host.machine_id == doc["host"]["machine_id"]
    assert snapshot.host.last_snapshot_id == snapshot.pk
    assert snapshot.agent == agent_token[0]
    assert snapshot.container_count == len(doc["docker"]["containers"]) == snapshot.containers.count()
    assert snapshot.image_count == len(doc["docker"]["images"]) == snapshot.images.count()
    assert snapshot.verify()
    stored_ids = set(snapshot.containers.values_list("container_id", flat=True))
    assert stored_ids == {c["inspect"]["Id"] for c in doc["docker"]["containers"]}


def test_it_answers_200_with_the_first_id_for_the_same_snapshot(agent_client, snapshot_doc):
    first = post(agent_client, snapshot_doc())
    before = stored_counts()
    again = post(agent_client, snapshot_doc())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert stored_counts() == before


def test_it_treats_a_reordered_document_as_the_same_snapshot(agent_client, snapshot_doc):
    doc = snapshot_doc()
    first = post(agent_client, doc)
    reordered = json.dumps(dict(reversed(list(doc.items())))).encode()
    again = post(agent_client, reordered)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_it_accepts_a_gzip_body(agent_client, snapshot_doc):
    response = post(agent_client, gzip.compress(json.dumps(snapshot_doc()).encode()), HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 201, response.content
    assert Snapshot.objects.count() == 1


def test_it_rejects_broken_json(agent_client):
    response = post(agent_client, b'{"schema": "plimsoll.snapshot/v1", ')
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["detail"]["path"] == "$"
    assert "invalid JSON" in response.json()["detail"]["reason"]
    assert stored_counts() == (0, 0, 0, 0, 0)


def test_it_rejects_nan_which_json_does_not_have(agent_client, snapshot_doc):
    body = json.dumps(snapshot_doc()).encode().replace(b'"schema"', b'"x": NaN, "schema"', 1)
    response = post(agent_client, body)
    assert response.status_code == 400
    assert "NaN" in response.json()["detail"]["reason"]


def test_it_rejects_a_broken_gzip_body(agent_client):
    response = post(agent_client, b"\x1f\x8b\x08\x00garbage", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    assert "gzip" in response.json()["detail"]["reason"]


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if value is KeyError:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "error_path", "reason"),
    [
        (["schema"], "plimsoll.snapshot/v9", "schema", "unknown schema version"),
        (["schema"], KeyError, "schema", "required field is missing"),
        (["host", "machine_id"], KeyError, "host.machine_id", "required field is missing"),
        (["host", "machine_id"], "  ", "host.machine_id", "must not be empty"),
        (["host", "hostname"], 42, "host.hostname", "expected string, got integer"),
        (["agent", "collected_at"], "yesterday", "agent.collected_at", "not an RFC 3339 timestamp"),
        (["agent", "collected_at"], "2026-12-01T10:00:00", "agent.collected_at", "no time zone"),
        (["agent", "errors"], [{"collector": "files"}], "agent.errors[0].error", "required field is missing"),
        (["docker"], [], "docker", "expected object, got array"),
        (["docker", "containers", -1, "inspect", "HostConfig"], "privileged", None, "expected object or null, got string"),
        (["docker", "containers", 0, "inspect", "State", "Running"], "yes", None, "expected boolean, got string"),
        (["docker", "containers", 0, "inspect", "Id"], KeyError, None, "required field is missing"),
        (["docker", "images", 0, "inspect"], None, "docker.images[0].inspect", "expected object, got null"),
        (["files", 0, "mode"], "rwxr-xr-x", "files[0].mode", "expected an octal mode"),
        (["files", 0, "exists"], "true", "files[0].exists", "expected boolean, got string"),
        (["dockerd", "argv"], "dockerd -H fd://", "dockerd.argv", "expected array or null, got string"),
        (["agent", "labels"], {"env": "x" * 64}, "agent.labels.env", "at most 63 characters"),
        (["agent", "labels"], {"bad key": "prod"}, "agent.labels.bad key", "labels are key=value strings"),
    ],
)
def test_it_rejects_a_bad_field_naming_its_path(agent_client, snapshot_doc, path, value, error_path, reason):
    doc = snapshot_doc()
    containers = doc["docker"]["containers"]
    if path[:2] == ["docker", "containers"]:
        index = path[2] % len(containers)
        path = [*path[:2], index, *path[3:]]
        error_path = f"docker.containers[{index}].inspect" + "".join(f".{p}" for p in path[4:])
    _set(doc, path, value)
    response = post(agent_client, doc)
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail["path"] == error_path
    assert reason in detail["reason"]


def test_it_stores_nothing_when_the_last_container_is_invalid(agent_client, snapshot_doc):
    doc = snapshot_doc()
    doc["docker"]["containers"][-1]["inspect"]["Config"] = "not an object"
    response = post(agent_client, doc)
    assert response.status_code == 400
    assert response.json()["detail"]["path"].startswith(f"docker.containers[{len(doc['docker']['containers']) - 1}]")
    assert stored_counts() == (0, 0, 0, 0, 0)


def test_it_rejects_duplicate_container_ids(agent_client, snapshot_doc):
    doc = snapshot_doc()
    doc["docker"]["containers"].append(doc["docker"]["containers"][0])
    response = post(agent_client, doc)
    assert response.status_code == 400
    assert "duplicate id" in response.json()["detail"]["reason"]


def test_it_never_stores_an_env_value(agent_client, snapshot_doc):
    doc = snapshot_doc()
    env = doc["docker"]["containers"][0]["inspect"]["Config"].setdefault("Env", [])
    env[:] = ["DB_PASSWORD=hunter2-very-secret", "API_TOKEN=tok_live_abcdef123456", "EMPTY=", "BARE"]
    response = post(agent_client, doc)
    assert response.status_code == 201
    snapshot = Snapshot.objects.get()
    rows = [list(model.objects.values()) for model in (Host, Snapshot, Container, Image, Network)]
    everything = json.dumps(rows, default=str) + snapshot.canonical.decode()
    assert "hunter2-very-secret" not in everything
    assert "tok_live_abcdef123456" not in everything
    stored_env = snapshot.document["docker"]["containers"][0]["inspect"]["Config"]["Env"]
    assert [item.split("=", 1)[0] for item in stored_env] == ["DB_PASSWORD", "API_TOKEN", "EMPTY", "BARE"]
    assert all(item.split("=", 1)[1].startswith("<redacted:sha256:") for item in stored_env)


@pytest.mark.parametrize("header", [None, "Bearer plm_wrong", "Bearer ", "Basic Zm9vOmJhcg=="])
def test_it_refuses_a_missing_or_wrong_token(snapshot_doc, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = post(client, snapshot_doc())
    assert response.status_code == 401
    assert response.json()["error"] in {"not_authenticated", "authentication_failed"}
    assert Snapshot.objects.count() == 0


def test_it_refuses_a_revoked_token(agent_client, agent_token, snapshot_doc):
    agent_token[0].revoke()
    response = post(agent_client, snapshot_doc())
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert Snapshot.objects.count() == 0


def test_it_refuses_a_person_token_on_ingest(api_client_for, alice, snapshot_doc):
    response = post(api_client_for(alice), snapshot_doc())
    assert response.status_code == 403
    assert Snapshot.objects.count() == 0


def test_it_answers_413_for_a_plain_body_over_the_limit(agent_client, snapshot_doc):
    body = json.dumps(snapshot_doc()).encode()
    with override_settings(PLIMSOLL_MAX_SNAPSHOT_BYTES=len(body) - 1):
        response = post(agent_client, body)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert Snapshot.objects.count() == 0


def test_it_answers_413_for_a_gzip_bomb(agent_client):
    limit = 1024 * 1024
    bomb = gzip.compress(b'{"schema": "' + b"A" * (64 * limit) + b'"}', compresslevel=9)
    assert len(bomb) < limit // 4
    with override_settings(PLIMSOLL_MAX_SNAPSHOT_BYTES=limit):
        response = post(agent_client, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert Snapshot.objects.count() == 0


def test_it_keeps_the_newest_facts_when_an_older_snapshot_arrives_late(agent_client, snapshot_doc):
    newer, older = snapshot_doc(), snapshot_doc()
    newer["agent"]["collected_at"] = "2026-11-30T10:00:00Z"
    newer["host"]["hostname"] = "renamed-host"
    older["agent"]["collected_at"] = "2026-11-30T09:00:00Z"
    newer_id = post(agent_client, newer).json()["id"]
    assert post(agent_client, older).status_code == 201
    host = Host.objects.get()
    assert host.last_snapshot_id == newer_id
    assert host.hostname == "renamed-host"
    assert host.snapshots.count() == 2


def test_it_records_when_the_agent_token_was_used(agent_client, agent_token, snapshot_doc):
    post(agent_client, snapshot_doc())
    assert AgentToken.objects.get(pk=agent_token[0].pk).last_used_at is not None


def test_it_hashes_the_canonical_document(agent_client, snapshot_doc):
    import hashlib

    response = post(agent_client, snapshot_doc())
    snapshot = Snapshot.objects.get(pk=response.json()["id"])
    assert snapshot.sha256 == hashlib.sha256(canonical_bytes(snapshot.document)).hexdigest()
    assert snapshot.size_bytes == len(canonical_bytes(snapshot.document))


@pytest.mark.django_db(transaction=True)
def test_it_stores_each_of_two_concurrent_pushes_once(agent_token, snapshot_doc):
    """Two agents' requests at once: the same snapshot twice, and two first snapshots of one new host."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI)")
    from inventory.services import ingest_snapshot

    def push(doc):
        try:
            return ingest_snapshot(doc, agent_token[0])
        finally:
            connection.close()

    for round_ in range(4):  # the race is won differently each time: several rounds catch more of its orders
        def doc(hour: int, round_: int = round_) -> dict:
            d = snapshot_doc()
            d["host"]["machine_id"] = f"race-{round_}"
            d["agent"]["collected_at"] = f"2026-11-30T{hour:02d}:00:00Z"
            return d

        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(push, [doc(10), doc(10), doc(11)]))
        assert results[0].snapshot.pk == results[1].snapshot.pk
        assert sorted(r.created for r in results[:2]) == [False, True]
        assert Snapshot.objects.filter(host__machine_id=f"race-{round_}").count() == 2
    assert Host.objects.count() == 4


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (lambda d: d["host"].__setitem__("hostname", "h" * 300), "host.hostname", "longer than 255"),
        (lambda d: d["docker"]["containers"][0]["inspect"].__setitem__("Name", "/web\x00"),
         "docker.containers[0].inspect.Name", "NUL"),
        (lambda d: d["agent"]["errors"].append({"collector": "files", "error": "bad\x00"}), "agent.errors", "NUL"),
        (lambda d: d["docker"]["images"].append(d["docker"]["images"][0]), "docker.images", "duplicate id"),
        (lambda d: d["agent"].__setitem__("collected_at", "2099-01-01T00:00:00Z"), "agent.collected_at", "future"),
        (lambda d: d["docker"]["images"][0]["inspect"].__setitem__("Size", 2**63), "docker.images[0].inspect.Size",
         "out of range"),
    ],
)
def test_it_refuses_what_would_break_storage_or_the_latest_snapshot(agent_client, snapshot_doc, change, path, reason):
    doc = snapshot_doc()
    change(doc)
    response = post(agent_client, doc)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]["path"].startswith(path)
    assert reason in response.json()["detail"]["reason"]
    assert stored_counts() == (0, 0, 0, 0, 0)


def test_it_refuses_json_nested_too_deeply(agent_client):
    response = post(agent_client, b"[" * 100000 + b"]" * 100000)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]["reason"]


def test_it_keeps_a_literal_backslash_u_sequence(agent_client, snapshot_doc):
    doc = snapshot_doc()
    doc["docker"]["containers"][0]["inspect"]["Config"]["Labels"] = {"note": "a literal \\u0000 in text"}
    assert post(agent_client, doc).status_code == 201


def test_it_redacts_image_env_history_and_swarm_secrets_an_agent_left_in_clear(agent_client, snapshot_doc):
    doc = snapshot_doc()
    image = doc["docker"]["images"][0]
    image["inspect"].setdefault("Config", {})["Env"] = ["IMG_PASSWORD=image-secret-1"]
    image["history"] = [{"CreatedBy": "/bin/sh -c #(nop)  ENV DB_PASSWORD=history-secret-2", "Id": "x"},
                        {"CreatedBy": "|1 TOKEN=buildarg-secret-3 /bin/sh -c make", "Id": "y"}]
    doc["docker"]["swarm"] = {
        "is_manager": True,
        "inspect": {"ID": "s", "JoinTokens": {"Worker": "SWMTKN-join-secret-4", "Manager": "SWMTKN-m"}},
        "nodes": [], "secrets_count": 0,
        "services": [{"ID": "svc", "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["API_KEY=service-secret-5"]}}}}],
    }
    response = post(agent_client, doc)
    assert response.status_code == 201, response.content
    stored = Snapshot.objects.get().canonical.decode()
    for secret in ("image-secret-1", "history-secret-2", "buildarg-secret-3", "SWMTKN-join-secret-4", "service-secret-5"):
        assert secret not in stored, secret
    assert "DB_PASSWORD=<redacted:sha256:" in stored and "IMG_PASSWORD=<redacted:sha256:" in stored


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["docker"]["containers"][0]["inspect"]["Config"].__setitem__("Image", 5), "Config.Image"),
        (lambda d: d["docker"]["containers"][0]["inspect"]["Config"].__setitem__("Image", {"a": 1}), "Config.Image"),
        (lambda d: d["docker"]["containers"][0]["inspect"].__setitem__("ImageName", ["x"]), "ImageName"),
    ],
)
def test_it_refuses_image_names_that_are_not_text(agent_client, snapshot_doc, mutate, path):
    doc = snapshot_doc()
    mutate(doc)
    response = agent_client.generic("POST", "/api/v1/snapshots/", json.dumps(doc), content_type="application/json")
    assert response.status_code == 400 and path in response.json()["detail"]["path"]
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize("odd", ['"\\ud800"', "1" + "0" * 5000])
def test_it_refuses_values_that_cannot_be_stored(agent_client, snapshot_doc, odd):
    body = json.dumps(snapshot_doc()).replace('"schema":', f'"odd": {odd}, "schema":', 1)
    response = agent_client.generic("POST", "/api/v1/snapshots/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]["path"] == "$"
    assert not Snapshot.objects.exists()
