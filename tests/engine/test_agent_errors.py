"""Agent errors naming one `target` (a container or image id) make only that object's data unknown.

Without a `target` an entry means the whole collector failed, and every check that reads it is `error`.
"""

from __future__ import annotations

from typing import Any

from compliance.engine import Policy, evaluate
from tests.engine.mutations import agent_error, container, drop_container

H = "pl-hardened"


def on_host(snapshot: dict[str, Any], control: str, policy: Policy) -> str:
    return next(str(r.status) for r in evaluate(snapshot, policy) if r.control == control)


def by_target(snapshot: dict[str, Any], kind: str) -> dict[tuple[str, str], str]:
    return {(r.control, r.target_name): str(r.status) for r in evaluate(snapshot) if r.target_kind == kind}


def test_a_container_the_agent_could_not_read_leaves_the_others_judged(docker_host: dict[str, Any]) -> None:
    before = by_target(docker_host, "container")
    drop_container("pl-web")(docker_host)

    after = by_target(docker_host, "container")

    assert after == {key: status for key, status in before.items() if key[1] != "pl-web"}
    assert [r.control for r in evaluate(docker_host) if r.control.startswith("5.") and r.target_kind == "host"
            and str(r.status) == "error"] == []  # fmt: skip


def test_a_targeted_error_naming_a_listed_container_makes_only_its_checks_error(docker_host: dict[str, Any]) -> None:
    short = container(docker_host, H)["inspect"]["Id"][:12]
    agent_error("docker.containers", target=short)(docker_host)

    results = by_target(docker_host, "container")

    assert {s for (control, name), s in results.items() if name == H} == {"error"}
    assert results[("5.5", "pl-privileged")] == "fail"
    assert results[("5.5", "pl-web")] == "pass"


def test_a_targeted_top_error_makes_only_that_containers_5_7_error(docker_host: dict[str, Any]) -> None:
    before = by_target(docker_host, "container")
    agent_error("docker.containers.top", of=H)(docker_host)

    after = by_target(docker_host, "container")

    assert {key for key in before if before[key] != after[key]} == {("5.7", H)}
    assert after[("5.7", H)] == "error"


def test_an_untargeted_top_error_makes_every_5_7_error_and_nothing_else(docker_host: dict[str, Any]) -> None:
    before = by_target(docker_host, "container")
    agent_error("docker.containers.top")(docker_host)

    results = [r for r in evaluate(docker_host) if r.control == "5.7"]
    after = by_target(docker_host, "container")

    assert [(r.target_kind, str(r.status)) for r in results] == [("host", "error")]
    assert after == {key: status for key, status in before.items() if key[0] != "5.7"}


def test_an_image_the_agent_could_not_read_leaves_the_others_judged(docker_host: dict[str, Any]) -> None:
    before = by_target(docker_host, "image")
    agent_error("docker.images", target="sha256:" + "ef" * 32)(docker_host)

    assert by_target(docker_host, "image") == before


def test_container_sprawl_within_the_limit_is_error_when_a_container_was_not_read(docker_host: dict[str, Any]) -> None:
    policy = Policy.from_dict({"max_stopped_containers": 25})
    assert on_host(docker_host, "6.2", policy) == "pass"
    drop_container("pl-web")(docker_host)

    result = next(r for r in evaluate(docker_host, policy) if r.control == "6.2")

    assert str(result.status) == "error"
    assert result.evidence["agent.errors[docker.containers].targets"] == [
        e["target"] for e in docker_host["agent"]["errors"] if e.get("target")
    ]


def test_container_sprawl_over_the_limit_still_fails_when_a_container_was_not_read(docker_host: dict[str, Any]) -> None:
    drop_container("pl-web")(docker_host)

    assert on_host(docker_host, "6.2", Policy.from_dict({"max_stopped_containers": 0})) == "fail"


def test_image_sprawl_is_error_when_a_container_was_not_read(docker_host: dict[str, Any]) -> None:
    policy = Policy.from_dict({"max_unused_images": 10})
    assert on_host(docker_host, "6.1", policy) == "pass"
    drop_container("pl-web")(docker_host)

    assert on_host(docker_host, "6.1", policy) == "error"


def test_an_image_whose_history_was_not_read_is_judged_from_its_inspect(docker_host: dict[str, Any]) -> None:
    item = docker_host["docker"]["images"][0]
    item["history"] = None
    agent_error("docker.images", target=item["inspect"]["Id"])(docker_host)

    results = by_target(docker_host, "image")
    image = "localhost/local/busybox:1"

    assert results[("4.9", image)] == "error"  # reads history
    assert results[("4.6", image)] == "fail"  # reads Config.Healthcheck: no HEALTHCHECK in the busybox image
