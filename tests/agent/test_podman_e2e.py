"""The agent against a real Docker-compatible engine (Podman), pushing to the live test server."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import pytest
from django.apps import apps
from django.db import connection

from tests.agent.conftest import unused_port
from tests.podman import SECRET_ENV, PodmanService

pytestmark = [pytest.mark.podman, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]


def agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inventory.agent", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def issue_token(tmp_path: Path, name: str) -> Path:
    from inventory.models import AgentToken

    _, raw = AgentToken.issue(name)
    path = tmp_path / "token"
    path.write_text(raw + "\n")
    return path


def without_env(inspect: dict[str, Any]) -> dict[str, Any]:
    return {**inspect, "Config": {k: v for k, v in inspect["Config"].items() if k != "Env"}}


def redacted(env: list[str]) -> list[str]:
    return [
        f"{k}=<redacted:sha256:{hashlib.sha256(v.encode()).hexdigest()}>" for k, _, v in (item.partition("=") for item in env)
    ]


def database_text() -> bytes:
    """Every value of every row of every table the project has, gzip blobs opened, as one byte string."""
    chunks: list[bytes] = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.values_list(*names):
            for value in row:
                if isinstance(value, memoryview | bytes):
                    value = bytes(value)
                    try:
                        value = gzip.decompress(value)
                    except OSError:
                        pass
                    chunks.append(value)
                elif isinstance(value, dict | list):
                    chunks.append(json.dumps(value).encode())
                else:
                    chunks.append(str(value).encode())
    return b"\n".join(chunks)


def test_it_stores_exactly_what_podman_reports_with_env_redacted(
    podman_service: PodmanService, podman_containers: dict[str, str], live_server: Any, tmp_path: Path
) -> None:
    from inventory.models import Container, Host, Snapshot

    token = issue_token(tmp_path, "podman-e2e")

    done = agent(
        "push",
        "--docker-host",
        podman_service.base_url,
        "--server",
        live_server.url,
        "--token-file",
        str(token),
        "--spool-dir",
        str(tmp_path / "spool"),
    )

    assert done.returncode == 0, done.stderr
    assert "1 delivered, 0 rejected, 0 left" in done.stderr
    snapshot = Snapshot.objects.get()
    host = Host.objects.get()
    assert snapshot.host == host
    assert host.machine_id == Path("/etc/machine-id").read_text().strip()
    api = docker.APIClient(base_url=podman_service.base_url, version="auto")
    stored = {c.container_id: c for c in Container.objects.filter(snapshot=snapshot)}
    assert set(stored) == set(podman_containers.values())
    for name, container_id in podman_containers.items():
        expected = api.inspect_container(container_id)
        container = stored[container_id]
        assert container.name == name
        assert container.state == expected["State"]["Status"]
        assert without_env(container.raw) == without_env(expected)
        assert container.raw["Config"]["Env"] == redacted(expected["Config"]["Env"])
    running = {c.name for c in stored.values() if c.top is not None}
    assert running == {c.name for c in stored.values() if c.raw["State"]["Running"]}
    assert {"pl-exited", "pl-restart", "pl-published"}.isdisjoint(running)
    document = snapshot.document
    assert document["docker"]["version"]["Components"][0]["Name"] == "Podman Engine"
    assert [i["inspect"] for i in document["docker"]["images"]] == [api.inspect_image(i["Id"]) for i in api.images()]
    assert {"collector": "dockerd", "error": "no dockerd process found in /proc"} in document["agent"]["errors"]
    dump = database_text()
    assert b"pl-hardened" in dump  # the dump does reach the stored documents
    for value in SECRET_ENV.values():
        assert value.encode() not in dump
        assert value not in json.dumps(document)


def test_it_delivers_every_spooled_snapshot_once_after_an_outage(
    podman_service: PodmanService, podman_containers: dict[str, str], live_server: Any, tmp_path: Path
) -> None:
    from inventory.models import Snapshot

    token = issue_token(tmp_path, "podman-spool")
    spool_dir = tmp_path / "spool"
    common = ["--token-file", str(token), "--spool-dir", str(spool_dir), "--retries", "1", "--backoff", "0.05"]
    down = f"http://127.0.0.1:{unused_port()}"

    outage = [agent("push", "--docker-host", podman_service.base_url, "--server", down, *common) for _ in range(3)]
    spooled = sorted(p.name for p in spool_dir.glob("*.json"))
    back = agent("push", "--no-collect", "--server", live_server.url, *common)
    again = agent("push", "--no-collect", "--server", live_server.url, *common)

    assert [r.returncode for r in outage] == [1, 1, 1]
    assert all("cannot reach the server" in r.stderr for r in outage)
    assert len(spooled) == 3
    assert back.returncode == 0, back.stderr
    assert "3 delivered, 0 rejected, 0 left" in back.stderr
    assert again.returncode == 0 and "0 delivered, 0 rejected, 0 left" in again.stderr
    stored = Snapshot.objects.order_by("collected_at")
    assert [s.sha256 for s in stored] == [name.split("-", 1)[1].removesuffix(".json") for name in spooled]
    assert list(spool_dir.glob("*.json")) == []


def test_it_counts_a_resent_snapshot_as_delivered_without_doubling_it(
    podman_service: PodmanService, podman_containers: dict[str, str], live_server: Any, tmp_path: Path
) -> None:
    """A crash after the server stored a snapshot but before the spool file was removed must not double it."""
    from inventory.models import Snapshot

    token = issue_token(tmp_path, "podman-resend")
    collected = tmp_path / "snap.json"
    assert agent("collect", "--docker-host", podman_service.base_url, "-o", str(collected)).returncode == 0
    common = ["--server", live_server.url, "--token-file", str(token), "--spool-dir", str(tmp_path / "spool")]

    first = agent("push", "--no-collect", str(collected), *common)
    second = agent("push", "--no-collect", str(collected), *common)

    assert first.returncode == second.returncode == 0
    assert "(201)" in first.stderr and "(200)" in second.stderr
    assert Snapshot.objects.count() == 1


def test_it_exits_3_when_the_live_server_refuses_a_revoked_token(
    podman_service: PodmanService, live_server: Any, tmp_path: Path
) -> None:
    from inventory.models import AgentToken

    token_path = issue_token(tmp_path, "revoked")
    AgentToken.objects.get(name="revoked").revoke()
    spool_dir = tmp_path / "spool"

    done = agent(
        "push",
        *("--docker-host", podman_service.base_url, "--server", live_server.url),
        *("--token-file", str(token_path), "--spool-dir", str(spool_dir)),
    )

    assert done.returncode == 3
    assert "refused the agent token" in done.stderr
    assert len(list(spool_dir.glob("*.json"))) == 1
    assert os.stat(spool_dir).st_mode & 0o777 == 0o700


def test_it_stores_the_agent_labels_and_the_given_machine_id_on_the_host(
    podman_service: PodmanService, live_server: Any, tmp_path: Path
) -> None:
    from inventory.models import Host

    token = issue_token(tmp_path, "podman-labels")
    labels_file = tmp_path / "labels"
    labels_file.write_text("# written by the provisioning job\nenv=staging\ndatacenter=fra1\n")

    done = agent(
        "push",
        *("--docker-host", podman_service.base_url, "--server", live_server.url),
        *("--token-file", str(token), "--spool-dir", str(tmp_path / "spool")),
        *("--machine-id", "e2e-host-without-machine-id", "--labels-file", str(labels_file)),
        *("--label", "env=prod", "--label", "pci.example.com/scope=cde"),
    )

    assert done.returncode == 0, done.stderr
    host = Host.objects.get()
    assert host.machine_id == "e2e-host-without-machine-id"
    assert host.agent_labels == {"env": "prod", "datacenter": "fra1", "pci.example.com/scope": "cde"}
    assert host.labels == {}
