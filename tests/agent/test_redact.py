import hashlib

from inventory.agent.redact import redact_container, redact_env, redact_image, redact_service, without_join_tokens


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
