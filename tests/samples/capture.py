"""Recapture the samples in this folder from a real Podman engine on this machine.

    .venv/bin/python tests/samples/capture.py

Starts a private Podman API service (tests/podman.py), creates containers with contrasting settings, saves Podman's
raw GET /containers/{id}/json for them, then runs the agent's `collect` three times against different container
sets. Only host.hostname and host.machine_id are rewritten afterwards, so the three snapshots look like three hosts.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

import docker  # noqa: E402

from tests.podman import ContainerSpec, PodmanService, contrasting_specs, free_port, start_podman  # noqa: E402

HOSTS = {
    "web01": {"machine_id": "5e1f0c2a9b8d4e7fa0b1c2d3e4f5a6b7", "hostname": "web01.example.internal"},
    "build01": {"machine_id": "7c3d9e1f2a4b4c6d8e0f1a2b3c4d5e6f", "hostname": "build01.example.internal"},
    "db01": {"machine_id": "9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d", "hostname": "db01.example.internal"},
}


def web_port() -> int:
    """8081 when it is free, so the samples are stable; any free port otherwise."""
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 8081))
        return 8081
    except OSError:
        return free_port()


def collect(service: PodmanService, name: str) -> dict[str, Any]:
    out = HERE / f"snapshot_{name}.json"
    subprocess.run(
        [sys.executable, "-m", "inventory.agent", "collect", "--docker-host", service.base_url, "-o", str(out)],
        cwd=REPO,
        check=True,
    )
    document = json.loads(out.read_text())
    document["host"].update(HOSTS[name])
    out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    out.chmod(0o644)
    return document


def main() -> None:
    service = start_podman()
    try:
        specs = {spec.name.split("-", 1)[1]: spec for spec in contrasting_specs("pl", web_port=web_port())}
        for spec in specs.values():
            service.create(spec)
        api = docker.APIClient(base_url=service.base_url, version="auto")
        inspects = [api.inspect_container(c["Id"]) for c in api.containers(all=True, quiet=True)]
        inspects.sort(key=lambda i: i["Name"])
        (HERE / "podman_inspect_containers.json").write_text(json.dumps(inspects, indent=2, sort_keys=True) + "\n")

        collect(service, "web01")

        service.remove(*(specs[n].name for n in ("privileged", "hostpid", "published", "restart")))
        service.create(ContainerSpec("ci-runner", ("--privileged", "-v", "/etc:/host-etc"), start=True))
        service.create(ContainerSpec("ci-cache", ("--memory", "256m", "--pids-limit", "100"), start=False))
        collect(service, "build01")

        service.remove("ci-runner", "ci-cache", *(specs[n].name for n in ("web", "hostnet", "exited")))
        service.create(
            ContainerSpec(
                "postgres",
                (
                    "--read-only",
                    "--memory",
                    "512m",
                    "--pids-limit",
                    "200",
                    "--security-opt",
                    "no-new-privileges",
                    "-e",
                    "POSTGRES_PASSWORD=not-a-real-secret-db01",
                    "--restart",
                    "always",
                    "--health-cmd",
                    "true",
                ),
            )
        )
        collect(service, "db01")
    finally:
        service.stop()
        shutil.rmtree(service.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
