"""Missing or unreadable data is never a pass: it is `error`, saying what was missing."""

from __future__ import annotations

from typing import Any

from compliance.engine import CHECKS, evaluate
from tests.engine.mutations import container


def statuses(snapshot: dict[str, Any], control: str) -> set[str]:
    return {str(r.status) for r in evaluate(snapshot) if r.control == control}


def test_it_reports_an_agent_error_on_the_collector_a_check_reads(docker_host: dict[str, Any]) -> None:
    docker_host["agent"]["errors"].append({"collector": "docker.containers", "error": "permission denied"})

    results = [r for r in evaluate(docker_host) if r.control == "5.5"]

    assert [(r.target_kind, str(r.status)) for r in results] == [("host", "error")]
    assert "docker.containers: permission denied" in results[0].message


def test_it_says_error_when_a_section_is_absent(docker_host: dict[str, Any]) -> None:
    del docker_host["audit"]

    result = next(r for r in evaluate(docker_host) if r.control == "1.1.3")

    assert str(result.status) == "error"
    assert result.message == "the snapshot lacks audit"


def test_it_says_error_for_the_one_container_missing_a_field(docker_host: dict[str, Any]) -> None:
    del container(docker_host, "pl-web")["inspect"]["HostConfig"]["Privileged"]

    results = {r.target_name: str(r.status) for r in evaluate(docker_host) if r.control == "5.5"}

    assert results["pl-web"] == "error"
    assert results["pl-hardened"] == "pass"


def test_it_says_error_when_daemon_json_does_not_parse(docker_host: dict[str, Any]) -> None:
    docker_host["dockerd"]["daemon_json"] = {"raw": None, "parse_error": "Expecting ',' delimiter: line 3"}

    result = next(r for r in evaluate(docker_host) if r.control == "2.2")

    assert str(result.status) == "error"
    assert "could not be parsed" in result.message


def test_it_judges_daemon_settings_as_error_on_podman_without_dockerd(web01: dict[str, Any]) -> None:
    assert statuses(web01, "2.14") == {"error"}
    assert statuses(web01, "2.2") == {"error"}


def test_it_never_passes_a_check_whose_collector_failed(docker_host: dict[str, Any]) -> None:
    collectors = sorted({name for check in CHECKS for name in check.reads})
    docker_host["agent"]["errors"] = [{"collector": name, "error": "boom"} for name in collectors]

    results = evaluate(docker_host)
    gated = {c.control for c in CHECKS if c.reads}

    assert {str(r.status) for r in results if r.control in gated} == {"error"}


def test_it_survives_malformed_raw_objects(docker_host: dict[str, Any]) -> None:
    container(docker_host, "pl-web")["inspect"]["HostConfig"]["CapAdd"] = 42

    result = next(r for r in evaluate(docker_host) if r.control == "5.4" and r.target_name == "pl-web")

    assert str(result.status) == "error"
    assert "unexpected data shape" in result.message


def test_it_judges_every_swarm_check_not_applicable_when_swarm_is_inactive(web01: dict[str, Any]) -> None:
    results = [r for r in evaluate(web01) if r.control.startswith("7.")]

    assert len(results) == 9
    assert {str(r.status) for r in results} == {"not_applicable"}


def test_it_judges_an_empty_snapshot_without_a_single_pass() -> None:
    results = evaluate({})

    assert len({r.control for r in results}) == 117
    assert "pass" not in {str(r.status) for r in results}
