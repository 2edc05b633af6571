"""Snapshot format v1: validation (naming the path of the first bad field), redaction and the canonical form.

Validation runs over the whole document before anything is written. Raw Docker Engine API objects are kept as they
came, so only the fields the server itself relies on are type-checked inside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from inventory.agent import redact

SCHEMA_V1 = "plimsoll.snapshot/v1"
SUPPORTED_SCHEMAS = (SCHEMA_V1,)
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$")


class SnapshotRejected(Exception):
    """A snapshot that cannot be accepted: `path` names the field, `reason` says why."""

    def __init__(self, path: str, reason: str, code: str = "invalid") -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.code = code


JSONType = type | tuple[type, ...]
_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def _type_name(expected: JSONType) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join("null" if t is type(None) else _TYPE_NAMES.get(t, t.__name__) for t in types)


def _got(value: Any) -> str:
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _check_type(value: Any, expected: JSONType, path: str) -> None:
    # JSON values are exactly these built-in types, so the common case is one identity test.
    if type(value) is expected or (type(expected) is tuple and type(value) in expected):
        return
    types = expected if isinstance(expected, tuple) else (expected,)
    # bool is an int in Python; JSON keeps them apart.
    if isinstance(value, bool) and bool not in types:
        raise SnapshotRejected(path, f"expected {_type_name(expected)}, got boolean")
    if not isinstance(value, types):
        raise SnapshotRejected(path, f"expected {_type_name(expected)}, got {_got(value)}")


def _field(obj: dict[str, Any], key: str, expected: JSONType, path: str, required: bool = False) -> Any:
    if key not in obj:
        if required:
            raise SnapshotRejected(f"{path}.{key}" if path else key, "required field is missing")
        return None
    value = obj[key]
    if type(value) is not expected and not (type(expected) is tuple and type(value) in expected):
        _check_type(value, expected, f"{path}.{key}" if path else key)
    return value


NULLABLE_OBJECT = (dict, type(None))
NULLABLE_LIST = (list, type(None))
NULLABLE_STR = (str, type(None))
NULLABLE_INT = (int, type(None))


def parse_rfc3339(value: str, path: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SnapshotRejected(path, f"not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise SnapshotRejected(path, "timestamp has no time zone offset")
    return parsed


def _each(items: list[Any] | None, path: str, check: Callable[[Any, str], None]) -> None:
    for index, item in enumerate(items or ()):
        check(item, f"{path}[{index}]")


def _agent(agent: dict[str, Any]) -> None:
    _field(agent, "version", str, "agent", required=True)
    collected_at = _field(agent, "collected_at", str, "agent", required=True)
    parse_rfc3339(collected_at, "agent.collected_at")
    _field(agent, "run_as_uid", NULLABLE_INT, "agent")

    def error(item: Any, path: str) -> None:
        _check_type(item, dict, path)
        _field(item, "collector", str, path, required=True)
        _field(item, "error", str, path, required=True)

    _each(_field(agent, "errors", list, "agent"), "agent.errors", error)
    labels = _field(agent, "labels", NULLABLE_OBJECT, "agent")
    if labels:
        check_labels(labels, "agent.labels")


# Identity fields are stored as they are, so they must fit their columns; display fields are cut to fit instead.
IDENTITY_LIMITS = {"hostname": 255, "machine_id": 128}


def check_labels(labels: dict[str, Any], path: str) -> None:
    """Labels are {key: value} strings, the same rule wherever they come from (agent, admin)."""
    for key, value in labels.items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_KEY_RE.match(key):
            raise SnapshotRejected(
                f"{path}.{key}", "labels are key=value strings (key: letters, digits, _.-/; value: at most 63 characters)"
            )


def _host(host: dict[str, Any]) -> None:
    for key, limit in IDENTITY_LIMITS.items():
        value = _field(host, key, str, "host", required=True)
        if not value.strip():
            raise SnapshotRejected(f"host.{key}", "must not be empty")
        if len(value) > limit:
            raise SnapshotRejected(f"host.{key}", f"longer than {limit} characters")
    for key in ("kernel", "arch"):
        _field(host, key, NULLABLE_STR, "host")
    for key in ("os_release", "groups", "env", "lsm"):
        _field(host, key, NULLABLE_OBJECT, "host")

    def obj(item: Any, path: str) -> None:
        _check_type(item, dict, path)

    _each(_field(host, "mounts", NULLABLE_LIST, "host"), "host.mounts", obj)
    _each(_field(host, "listening_sockets", NULLABLE_LIST, "host"), "host.listening_sockets", obj)


def _dockerd(dockerd: dict[str, Any]) -> None:
    _field(dockerd, "pid", NULLABLE_INT, "dockerd")
    _field(dockerd, "uid", NULLABLE_INT, "dockerd")

    def arg(item: Any, path: str) -> None:
        _check_type(item, str, path)

    _each(_field(dockerd, "argv", NULLABLE_LIST, "dockerd"), "dockerd.argv", arg)
    daemon_json = _field(dockerd, "daemon_json", NULLABLE_OBJECT, "dockerd")
    if daemon_json:
        _field(daemon_json, "raw", NULLABLE_OBJECT, "dockerd.daemon_json")
        _field(daemon_json, "parse_error", NULLABLE_STR, "dockerd.daemon_json")
    _field(dockerd, "systemd", NULLABLE_OBJECT, "dockerd")


def _file(item: Any, path: str) -> None:
    _check_type(item, dict, path)
    _field(item, "path", str, path, required=True)
    _field(item, "exists", bool, path, required=True)
    mode = _field(item, "mode", NULLABLE_STR, path)
    if mode is not None and not re.fullmatch(r"0?[0-7]{3,4}", mode):
        raise SnapshotRejected(f"{path}.mode", f"expected an octal mode such as '0644', got {mode!r}")


def _container(item: Any, path: str) -> None:
    _check_type(item, dict, path)
    inspect = _field(item, "inspect", dict, path, required=True)
    here = f"{path}.inspect"
    _field(inspect, "Id", str, here, required=True)
    _field(inspect, "Name", str, here)
    _field(inspect, "Image", str, here)
    _field(inspect, "Created", str, here)
    config = _field(inspect, "Config", NULLABLE_OBJECT, here)
    if config:
        env = _field(config, "Env", NULLABLE_LIST, f"{here}.Config")
        _each(env, f"{here}.Config.Env", lambda v, p: _check_type(v, str, p))
    _field(inspect, "HostConfig", NULLABLE_OBJECT, here)
    state = _field(inspect, "State", NULLABLE_OBJECT, here)
    if state:
        _field(state, "Status", str, f"{here}.State")
        _field(state, "Running", bool, f"{here}.State")
    _field(inspect, "Mounts", NULLABLE_LIST, here)
    _field(inspect, "NetworkSettings", NULLABLE_OBJECT, here)
    _field(item, "top", NULLABLE_OBJECT, path)


def _image(item: Any, path: str) -> None:
    _check_type(item, dict, path)
    inspect = _field(item, "inspect", dict, path, required=True)
    here = f"{path}.inspect"
    _field(inspect, "Id", str, here, required=True)
    _field(inspect, "RepoTags", NULLABLE_LIST, here)
    _field(inspect, "Config", NULLABLE_OBJECT, here)
    _field(item, "history", NULLABLE_LIST, path)


def _network(item: Any, path: str) -> None:
    _check_type(item, dict, path)
    _field(item, "Id", str, path, required=True)
    _field(item, "Name", str, path)


def _docker(docker: dict[str, Any]) -> None:
    _field(docker, "info", NULLABLE_OBJECT, "docker")
    _field(docker, "version", NULLABLE_OBJECT, "docker")
    containers = _field(docker, "containers", NULLABLE_LIST, "docker")
    _each(containers, "docker.containers", _container)
    _each(_field(docker, "images", NULLABLE_LIST, "docker"), "docker.images", _image)
    _each(_field(docker, "networks", NULLABLE_LIST, "docker"), "docker.networks", _network)
    _field(docker, "plugins", NULLABLE_LIST, "docker")
    swarm = _field(docker, "swarm", NULLABLE_OBJECT, "docker")
    if swarm:
        _field(swarm, "is_manager", bool, "docker.swarm")
    _unique([c["inspect"]["Id"] for c in containers or ()], "docker.containers", "inspect.Id")
    _unique([i["inspect"]["Id"] for i in docker.get("images") or ()], "docker.images", "inspect.Id")
    _unique([n["Id"] for n in docker.get("networks") or ()], "docker.networks", "Id")


def _unique(ids: list[str], path: str, key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if len(value) > 128:
            raise SnapshotRejected(f"{path}[{index}].{key}", "longer than 128 characters")
        if value in seen:
            raise SnapshotRejected(f"{path}[{index}].{key}", f"duplicate id {value[:19]!r}")
        seen.add(value)


def find_nul(value: Any, path: str = "$") -> str | None:
    """The path of the first string (key or value) holding a NUL character, which no database text column stores."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path != "$" else str(key)
            if "\x00" in key:
                return here
            if (found := find_nul(item, here)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := find_nul(item, f"{path}[{index}]")) is not None:
                return found
    return None


def validate_snapshot(document: Any) -> None:
    """Raise SnapshotRejected naming the first bad field; return None for a valid snapshot v1 document."""
    _check_type(document, dict, "$")
    schema = _field(document, "schema", str, "", required=True)
    if schema not in SUPPORTED_SCHEMAS:
        raise SnapshotRejected(
            "schema", f"unknown schema version {schema!r}; this server accepts {', '.join(SUPPORTED_SCHEMAS)}"
        )
    _agent(_field(document, "agent", dict, "", required=True))
    _host(_field(document, "host", dict, "", required=True))
    dockerd = _field(document, "dockerd", NULLABLE_OBJECT, "")
    if dockerd:
        _dockerd(dockerd)
    _each(_field(document, "files", NULLABLE_LIST, ""), "files", _file)
    audit = _field(document, "audit", NULLABLE_OBJECT, "")
    if audit:
        _field(audit, "rules_loaded", NULLABLE_LIST, "audit")
        _field(audit, "rules_files", NULLABLE_OBJECT, "audit")
    _docker(_field(document, "docker", dict, "", required=True))


def redact_snapshot(document: dict[str, Any]) -> None:
    """Redact, in place, every secret an agent may have left in clear (for agents that do not redact themselves).

    The same functions as the agent's (inventory/agent/redact.py), each idempotent: container Config.Env, image
    Config.Env and ContainerConfig.Env, ENV/ARG/build-arg values in image history, swarm service Env, and no swarm
    join tokens.
    """
    docker = document["docker"]
    for container in docker.get("containers") or ():
        container["inspect"] = redact.redact_container(container["inspect"])
    for image in docker.get("images") or ():
        image["inspect"] = redact.redact_image(image["inspect"])
        if "history" in image:
            image["history"] = redact.redact_history(image["history"])
    swarm = docker.get("swarm")
    if isinstance(swarm, dict):
        if isinstance(swarm.get("inspect"), dict):
            swarm["inspect"] = redact.without_join_tokens(swarm["inspect"])
        if isinstance(swarm.get("services"), list):
            swarm["services"] = [redact.redact_service(service) for service in swarm["services"]]


def canonical_bytes(document: Any) -> bytes:
    """The canonical serialisation the sha256 is taken over: sorted keys, no spaces, UTF-8.

    orjson writes the same bytes as json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), ten
    times faster; the stdlib serves the rare document orjson refuses (integers beyond 64 bits).
    """
    try:
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
