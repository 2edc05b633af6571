import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from inventory.agent.redact import (
    redact_container,
    redact_env,
    redact_history,
    redact_image,
    redact_service,
    without_join_tokens,
)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_it_replaces_every_env_value_with_its_sha256_and_keeps_the_key() -> None:
    env = ["DB_PASSWORD=hunter2", "EMPTY=", "URL=postgres://u:p@db/x?a=b"]

    assert redact_env(env) == [
        f"DB_PASSWORD=<redacted:sha256:{sha('hunter2')}>",
        f"EMPTY=<redacted:sha256:{sha('')}>",
        f"URL=<redacted:sha256:{sha('postgres://u:p@db/x?a=b')}>",
    ]


def test_it_leaves_already_redacted_values_alone() -> None:
    once = redact_env(["A=1"])

    assert redact_env(once) == once


def test_it_redacts_an_entry_without_equals_sign_like_the_server() -> None:
    assert redact_env(["JUSTKEY"]) == [f"JUSTKEY=<redacted:sha256:{sha('')}>"]


def test_it_redacts_container_config_env_without_touching_the_rest() -> None:
    inspect = {"Id": "abc", "Config": {"Env": ["SECRET=x"], "User": "1000"}, "HostConfig": {"Privileged": True}}

    redacted = redact_container(inspect)

    assert redacted["Config"] == {"Env": [f"SECRET=<redacted:sha256:{sha('x')}>"], "User": "1000"}
    assert redacted["HostConfig"] is inspect["HostConfig"]
    assert inspect["Config"]["Env"] == ["SECRET=x"]


def test_it_keeps_a_null_env_null() -> None:
    assert redact_container({"Id": "a", "Config": {"Env": None}})["Config"]["Env"] is None


def test_it_redacts_image_env_in_config_and_container_config() -> None:
    image = {"Id": "sha256:1", "Config": {"Env": ["K=v"]}, "ContainerConfig": {"Env": ["K=v"]}}

    redacted = redact_image(image)

    assert redacted["Config"]["Env"] == redacted["ContainerConfig"]["Env"] == [f"K=<redacted:sha256:{sha('v')}>"]


def test_it_redacts_swarm_service_env_and_drops_join_tokens() -> None:
    service = {"ID": "s", "Spec": {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Env": ["PW=p"], "Image": "i"}}}}

    redacted = redact_service(service)

    assert redacted["Spec"]["TaskTemplate"]["ContainerSpec"] == {"Env": [f"PW=<redacted:sha256:{sha('p')}>"], "Image": "i"}
    assert redacted["Spec"]["Name"] == "web"
    assert without_join_tokens({"ID": "x", "JoinTokens": {"Worker": "SWMTKN-1-abc"}}) == {"ID": "x"}


def red(value: str) -> str:
    return f"<redacted:sha256:{sha(value)}>"


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ("/bin/sh -c #(nop) ENV DB_PASSWORD=s3cr3t", f"/bin/sh -c #(nop) ENV DB_PASSWORD={red('s3cr3t')}"),
        (
            '/bin/sh -c #(nop)  ENV A=1 B="two words" PATH=/usr/bin:/bin',
            f"/bin/sh -c #(nop)  ENV A={red('1')} B={red('two words')} PATH={red('/usr/bin:/bin')}",
        ),
        ("/bin/sh -c #(nop)  ENV API_KEY some long value", f"/bin/sh -c #(nop)  ENV API_KEY {red('some long value')}"),
        ("ENV DB_PASSWORD=s3cr3t", f"ENV DB_PASSWORD={red('s3cr3t')}"),
        ("ARG PASS=x", f"ARG PASS={red('x')}"),
        ("/bin/sh -c #(nop)  ARG PASS=x", f"/bin/sh -c #(nop)  ARG PASS={red('x')}"),
        ("ARG VERSION", "ARG VERSION"),
        ("|1 TOKEN=abc /bin/sh -c make", f"|1 TOKEN={red('abc')} /bin/sh -c make"),
        (
            "RUN |2 TOKEN=abc USER=me /bin/sh -c make A=1 # buildkit",
            f"RUN |2 TOKEN={red('abc')} USER={red('me')} /bin/sh -c make A=1 # buildkit",
        ),
        ("/bin/sh -c apk add curl", "/bin/sh -c apk add curl"),
        ('/bin/sh -c #(nop)  CMD ["/bin/sh"]', '/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
    ],
)
def test_it_redacts_env_arg_and_build_arg_values_in_image_history(created_by: str, expected: str) -> None:
    history = [{"Id": "sha256:1", "CreatedBy": created_by, "Size": 0}]

    redacted = redact_history(history)

    assert redacted == [{"Id": "sha256:1", "CreatedBy": expected, "Size": 0}]
    assert redact_history(redacted) == redacted  # idempotent
    assert history[0]["CreatedBy"] == created_by  # the argument is not changed


def test_it_hashes_a_quoted_history_value_like_the_config_env_value() -> None:
    [layer] = redact_history([{"CreatedBy": '/bin/sh -c #(nop)  ENV PW="a b"'}])
    [env] = redact_env(["PW=a b"])

    assert layer["CreatedBy"].endswith(env)


def test_it_tolerates_odd_history_shapes() -> None:
    assert redact_history(None) is None
    assert redact_history([]) == []
    odd = [None, "text", 3, {"Id": "x"}, {"CreatedBy": None}, {"CreatedBy": ["ENV A=1"]}]
    assert redact_history(odd) == odd


@pytest.mark.parametrize(
    ("function", "obj"),
    [
        (redact_container, {"Id": "c", "Config": {"Env": ["PW=p", "JUSTKEY", 7, None]}}),
        (redact_container, {"Id": "c", "Config": {"Env": "PW=p"}}),
        (redact_image, {"Id": "i", "Config": {"Env": ["K=v"]}, "ContainerConfig": None}),
        (redact_service, {"ID": "s", "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["PW=p"]}}}, "PreviousSpec": None}),
    ],
)
def test_every_redaction_is_idempotent(function: Callable[[Any], Any], obj: dict[str, Any]) -> None:
    once = function(obj)

    assert function(once) == once
    assert "=p" not in json.dumps(once) and '"v"' not in json.dumps(once)


@pytest.mark.parametrize("function", [redact_container, redact_image, redact_service, without_join_tokens])
@pytest.mark.parametrize("obj", [None, [], "text", {}, {"Config": None}, {"Config": []}, {"Spec": {"TaskTemplate": None}}])
def test_redaction_tolerates_odd_shapes(function: Callable[[Any], Any], obj: Any) -> None:
    assert function(obj) == obj
