"""Issue 5 end to end: containers made in Podman with known settings, collected by the agent, pushed to the live
server and evaluated on ingest; the stored results are what docs/cis-docker.md says those settings give."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compliance.models import Result
from inventory.choices import EvaluationStatus
from inventory.models import AgentToken, Snapshot
from tests.podman import IMAGE, ContainerSpec, PodmanService, free_port

pytestmark = [pytest.mark.podman, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
PREFIX = "pev"  # apart from the session's contrasting set ("pl-"), so both can live in the one Podman service
HEALTHY_IMAGE = f"localhost/{PREFIX}/healthy:1"
PASS, FAIL, MANUAL, NA = "pass", "fail", "manual", "not_applicable"
NAMES = ("plain", "privileged", "hardened", "exposed", "hostns", "exited")
STOPPED = {"exposed": "created", "exited": "exited"}


def fails_only(*names: str) -> dict[str, str]:
    return {name: FAIL if name in names else PASS for name in NAMES}


def passes_only(*names: str) -> dict[str, str]:
    return {name: PASS if name in names else FAIL for name in NAMES}


# control -> {container: status}, every container of the set named; ids and rules as in docs/cis-docker.md.
EXPECTED: dict[str, dict[str, str]] = {
    "4.1": passes_only("hardened", "exited"),  # --user 1000; the rest run as root (Config.User "")
    "5.4": fails_only("exposed", "privileged"),  # --cap-add NET_ADMIN; --privileged grants every capability
    "5.5": fails_only("privileged"),
    "5.6": fails_only("exposed"),  # -v /etc:/host-etc read-write; hardened binds it :ro
    "5.7": {"plain": PASS, "privileged": PASS, "hardened": PASS, "exposed": NA, "hostns": MANUAL, "exited": NA},
    "5.10": fails_only("hostns"),  # --network host
    "5.11": passes_only("hardened"),  # --memory 64m
    "5.13": passes_only("hardened"),  # --read-only
    "5.14": fails_only("exposed"),  # -p 0.0.0.0:...; hardened's 127.0.0.1 passes, no published port passes
    "5.15": fails_only("exposed"),  # --restart always; on-failure:3 passes, no policy passes
    "5.16": fails_only("hostns"),  # --pid host; Podman's "private" passes
    "5.22": fails_only("privileged"),  # privileged disables seccomp
    "5.26": passes_only("hardened"),  # --security-opt no-new-privileges (Podman: the container's SecurityOpt is final)
    "5.27": passes_only("hardened", "exited"),  # --health-cmd, and the HEALTHCHECK of exited's image
    "5.29": fails_only("exposed"),  # --pids-limit -1; the others get Podman's default pids_limit (2048) or 50
}
# (control, container) -> the evidence that decided it: the raw inspect paths and the values the agent saw.
EVIDENCE: dict[tuple[str, str], dict[str, Any]] = {
    ("5.5", "privileged"): {"HostConfig.Privileged": True},
    ("5.4", "exposed"): {"HostConfig.CapAdd": ["NET_ADMIN"]},
    ("5.10", "hostns"): {"HostConfig.NetworkMode": "host"},
    ("5.11", "hardened"): {"HostConfig.Memory": 64 * 1024 * 1024},
    ("5.13", "hardened"): {"HostConfig.ReadonlyRootfs": True},
    ("5.15", "hardened"): {"HostConfig.RestartPolicy.Name": "on-failure", "HostConfig.RestartPolicy.MaximumRetryCount": 3},
    ("5.15", "exposed"): {"HostConfig.RestartPolicy.Name": "always", "HostConfig.RestartPolicy.MaximumRetryCount": 0},
    ("5.16", "hostns"): {"HostConfig.PidMode": "host"},
    ("5.26", "hardened"): {"HostConfig.SecurityOpt": ["no-new-privileges"]},
    ("5.29", "hardened"): {"HostConfig.PidsLimit": 50},
    ("4.1", "hardened"): {"Config.User": "1000"},
}


def specs(local_port: int, any_port: int) -> dict[str, tuple[ContainerSpec, str]]:
    hardened = (
        *("--read-only", "--memory", "64m", "--pids-limit", "50", "--security-opt", "no-new-privileges"),
        *("--user", "1000", "--restart", "on-failure:3", "--health-cmd", "true"),
        *("-p", f"127.0.0.1:{local_port}:8080", "-v", "/etc:/host-etc:ro"),
    )
    exposed = (
        *("--cap-add", "NET_ADMIN", "-p", f"0.0.0.0:{any_port}:8080", "-v", "/etc:/host-etc"),
        *("--restart", "always", "--pids-limit", "-1"),
    )
    return {
        "plain": (ContainerSpec(f"{PREFIX}-plain", ()), IMAGE),
        "privileged": (ContainerSpec(f"{PREFIX}-privileged", ("--privileged",)), IMAGE),
        "hardened": (ContainerSpec(f"{PREFIX}-hardened", hardened), IMAGE),
        "exposed": (ContainerSpec(f"{PREFIX}-exposed", exposed, start=False), IMAGE),
        "hostns": (ContainerSpec(f"{PREFIX}-hostns", ("--network", "host", "--pid", "host")), IMAGE),
        "exited": (
            ContainerSpec(f"{PREFIX}-exited", ("--user", "1000"), command=("true",), exit_after_start=True),
            HEALTHY_IMAGE,
        ),
    }


@pytest.fixture(scope="module")
def known_containers(podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """name (without the prefix) -> container id; removed, with the image built for them, when the module ends."""
    context = tmp_path_factory.mktemp("healthy-image")
    (context / "Containerfile").write_text(f"FROM {IMAGE}\nHEALTHCHECK --interval=30s CMD true\n")
    ids: dict[str, str] = {}
    try:
        # The docker format keeps HEALTHCHECK; OCI image configs have no field for it.
        podman_service.podman("build", "--format", "docker", "-t", HEALTHY_IMAGE, str(context))
        for name, (spec, image) in specs(free_port(), free_port()).items():
            ids[name] = podman_service.create(spec, image=image)
        yield ids
    finally:
        podman_service.remove(*ids.values())
        podman_service.podman("rmi", "-f", HEALTHY_IMAGE)


def push(podman_service: PodmanService, live_server: Any, tmp_path: Path) -> Snapshot:
    _, raw = AgentToken.issue(f"{PREFIX}-agent")
    token = tmp_path / "token"
    token.write_text(raw + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "inventory.agent", "push", "--docker-host", podman_service.base_url,
         "--server", live_server.url, "--token-file", str(token), "--spool-dir", str(tmp_path / "spool"),
         "--machine-id", f"{PREFIX}-host"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 delivered, 0 rejected, 0 left" in done.stderr
    return Snapshot.objects.get()


def container_results(snapshot: Snapshot, ids: dict[str, str]) -> dict[tuple[str, str], Result]:
    """(control, container name without the prefix) -> its stored result, for the containers of this module."""
    names = {container_id: name for name, container_id in ids.items()}
    rows = Result.objects.filter(snapshot=snapshot, is_current=True, target_kind="container", target_id__in=names)
    return {(row.control, names[row.target_id]): row for row in rows}


def test_it_stores_the_results_the_container_settings_must_give(
    podman_service: PodmanService, known_containers: dict[str, str], live_server: Any, tmp_path: Path
) -> None:
    snapshot = push(podman_service, live_server, tmp_path)
    results = container_results(snapshot, known_containers)

    snapshot.refresh_from_db()
    assert snapshot.evaluation_status == EvaluationStatus.DONE
    got = {control: {name: results[control, name].status for name in NAMES} for control in EXPECTED}
    assert got == EXPECTED
    seen = {key: {path: results[key].evidence.get(path) for path in evidence} for key, evidence in EVIDENCE.items()}
    assert seen == EVIDENCE
    bindings = {name: results["5.14", name].evidence["NetworkSettings.Ports"] for name in ("hardened", "exposed")}
    assert [p.split(":", 1)[0] for p in bindings["hardened"]] == ["127.0.0.1"]
    assert [p.split(":", 1)[0] for p in bindings["exposed"]] == ["*"]  # Podman reports 0.0.0.0 as HostIp ""
    image = Result.objects.get(snapshot=snapshot, control="4.6", target_kind="image", target_name=IMAGE)
    assert (image.status, image.evidence) == (FAIL, {"Config.Healthcheck.Test": None})  # busybox has no HEALTHCHECK


def test_it_judges_stopped_containers_and_records_their_state(
    podman_service: PodmanService, known_containers: dict[str, str], live_server: Any, tmp_path: Path
) -> None:
    snapshot = push(podman_service, live_server, tmp_path)
    results = container_results(snapshot, known_containers)

    controls = {name: {control for control, n in results if n == name} for name in NAMES}
    states = {name: {row.target_state for (_, n), row in results.items() if n == name} for name in NAMES}
    assert controls["exposed"] == controls["exited"] == controls["plain"]
    assert len(controls["plain"]) == Result.objects.filter(snapshot=snapshot, target_id=known_containers["plain"]).count()
    assert states == {name: {STOPPED.get(name, "running")} for name in NAMES}
    stored = {c.container_id: c.state for c in snapshot.containers.filter(container_id__in=known_containers.values())}
    assert stored == {known_containers[name]: STOPPED.get(name, "running") for name in NAMES}
    assert results["5.7", "exited"].evidence == {"State.Status": "exited"}
    assert results["5.5", "exposed"].status == PASS and results["5.6", "exposed"].status == FAIL
