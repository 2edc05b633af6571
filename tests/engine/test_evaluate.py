"""The engine as a whole: its interface, every container judged (stopped too), the output shape, the real samples."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.engine import CHECKS, ENGINE_VERSION, CheckResult, Policy, PolicyError, evaluate
from compliance.engine.context import parse_dockerd_argv
from compliance.engine.core import mode_within, parse_mode
from tests.engine.conftest import SAMPLES, load_sample

REFERENCE = Path("/work/shared/reference/cis_docker_benchmark_v1.6.0.csv")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "cis-docker.md"


def test_it_has_one_check_per_recommendation() -> None:
    controls = [c.control for c in CHECKS]

    assert len(controls) == len(set(controls)) == 117
    if REFERENCE.exists():
        with REFERENCE.open() as fh:
            assert set(controls) == {row["id"] for row in csv.DictReader(fh)}
    assert ENGINE_VERSION


def test_it_documents_every_recommendation() -> None:
    text = DOCS.read_text()

    assert [c.control for c in CHECKS if f"| {c.control} |" not in text] == []


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("snapshot_*.json")))
def test_it_judges_every_container_of_a_real_snapshot_including_stopped(name: str) -> None:
    snapshot = load_sample(name)

    results = evaluate(snapshot)
    judged = {r.target_id: r.target_state for r in results if r.control == "5.5"}

    assert judged == {c["inspect"]["Id"]: c["inspect"]["State"]["Status"] for c in snapshot["docker"]["containers"]}
    assert {r.control for r in results} == {c.control for c in CHECKS}


def test_it_shapes_results_as_design_md_says(web01: dict[str, Any]) -> None:
    result = next(r for r in evaluate(web01) if r.control == "5.5" and r.target_name == "pl-privileged")

    assert isinstance(result, CheckResult)
    assert result.to_dict() == {
        "control": "5.5",
        "target": {"kind": "container", "name": "pl-privileged", "id": result.target_id, "state": "running"},
        "status": "fail",
        "evidence": {"HostConfig.Privileged": True},
        "expected": False,
        "message": "the container is privileged",
    }
    json.dumps(result.to_dict())


def test_it_judges_podman_specific_shapes(web01: dict[str, Any]) -> None:
    results = {(r.control, r.target_name): str(r.status) for r in evaluate(web01)}

    assert results[("5.16", "pl-hardened")] == "pass"  # PidMode "private"
    assert results[("5.27", "pl-hardened")] == "fail"  # State.Health present with Status ""
    assert results[("5.4", "pl-hardened")] == "pass"  # CapDrop as a list of names
    assert results[("5.26", "pl-web")] == "fail"  # Podman's inspect holds its no-new-privileges default


def test_it_never_echoes_a_secret_into_evidence(docker_host: dict[str, Any]) -> None:
    docker_host["docker"]["images"][0]["history"].insert(0, {"CreatedBy": "ENV DB_PASSWORD=hunter2 # buildkit"})

    result = next(r for r in evaluate(docker_host) if r.control == "4.10")

    assert str(result.status) == "fail"
    assert "hunter2" not in json.dumps(result.to_dict())


def test_it_honours_the_config_file_option(docker_host: dict[str, Any]) -> None:
    docker_host["dockerd"]["argv"].append("--config-file=/srv/docker/daemon.json")
    docker_host["files"].append({"path": "/srv/docker/daemon.json", "exists": True, "type": "file", "uid": 0,
                                 "gid": 0, "owner": "root", "group": "root", "mode": "0666"})  # fmt: skip

    result = next(r for r in evaluate(docker_host) if r.control == "3.18")

    assert str(result.status) == "fail"
    assert result.evidence == {"files[/srv/docker/daemon.json].mode": "0666"}


def test_it_counts_a_directory_watch_for_the_files_inside(docker_host: dict[str, Any]) -> None:
    docker_host["audit"]["rules_loaded"] = ["-w /etc/docker -p wa -k docker"]

    results = {r.control: str(r.status) for r in evaluate(docker_host)}

    assert results["1.1.6"] == results["1.1.11"] == "pass"
    assert results["1.1.3"] == "fail"


def test_it_reads_dockerd_options_in_every_spelling() -> None:
    argv = ["dockerd", "-ldebug", "--log-level=info", "-H", "fd://", "-Htcp://0.0.0.0:2376", "--icc=false", "-D"]

    opts = parse_dockerd_argv(argv)

    assert opts["log-level"] == ["debug", "info"]
    assert opts["host"] == ["fd://", "tcp://0.0.0.0:2376"]
    assert opts["icc"] == ["false"]
    assert opts["debug"] == ["true"]


@pytest.mark.parametrize(
    ("mode", "allowed", "within"),
    [("0644", 0o644, True), ("0600", 0o644, True), ("0622", 0o644, False), ("0700", 0o644, False),
     ("0400", 0o400, True), ("0440", 0o400, False), ("4755", 0o755, False)],
)  # fmt: skip
def test_it_compares_modes_as_bitmasks(mode: str, allowed: int, within: bool) -> None:
    assert mode_within(parse_mode(mode), allowed) is within


def test_it_reads_a_policy_an_admin_writes() -> None:
    policy = Policy.from_dict({"trusted_docker_users": ["alice"], "allowed_host_ports": [443, "8000-8100"],
                               "expected_ulimits": {"nofile": "1024:2048", "nproc": {"soft": 64, "hard": 128}}})  # fmt: skip

    assert policy.allowed_host_ports == ((443, 443), (8000, 8100))
    assert policy.expected_ulimits == {"nofile": (1024, 2048), "nproc": (64, 128)}
    assert Policy.from_dict(policy.to_dict()) == policy
    assert Policy() == Policy.from_dict(None)


@pytest.mark.parametrize(
    "data",
    [{"trusted_users": ["alice"]}, {"allowed_host_ports": ["80-22"]}, {"max_unused_images": -1},
     {"expected_ulimits": {"nofile": "many"}}, {"swarm_mode_needed": "yes"}],
)  # fmt: skip
def test_it_rejects_a_bad_policy(data: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        Policy.from_dict(data)
