"""Snapshot format v1: validation (naming the path of the first bad field), redaction and the canonical form.

Validation runs over the whole document before anything is written. Raw Docker Engine API objects are kept as they
came, so only the fields the server itself relies on are type-checked inside them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from inventory.agent import redact
from inventory.agent.labels import KEY_RE as LABEL_KEY_RE
from inventory.agent.labels import MAX_VALUE_LENGTH as LABEL_MAX_VALUE_LENGTH
from inventory.agent.labels import value_problem as label_value_problem

SCHEMA_V1 = "plimsoll.snapshot/v1"
SUPPORTED_SCHEMAS = (SCHEMA_V1,)


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


# RFC 3339 section 5.6 `date-time`, with what its notes allow: `t`/`z` in lower case and a space for the `T`.
# [0-9], not \d: \d also matches digits of other scripts, which int() would then read.
_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<offset_hour>[0-9]{2}):(?P<offset_minute>[0-9]{2}))?"
)
# Go's zero time.Time, which the Engine API writes for "never" (e.g. State.FinishedAt of a container never stopped).
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def parse_rfc3339(value: Any, path: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware datetime, or raise SnapshotRejected naming `path`.

    The one parser of timestamps in snapshots, for validation and for storage alike. It accepts any number of
    fractional digits (truncated, not rounded, to microseconds), `Z`/`z` or a numeric offset (`-00:00` is read as
    UTC), and `T`, `t` or a space between date and time. A leap second (`:60`, wherever it is written: no table of
    leap seconds is kept) is accepted and clamped to `:59.999999`, the last instant before it that datetime and the
    databases can hold, so it keeps its order among the seconds around it. Dates that do not exist and instants
    outside the years 1 to 9999 once converted to UTC (which no datetime, and so no read of the stored row, can
    hold) are rejected.
    """
    if not isinstance(value, str):
        raise SnapshotRejected(path, f"expected an RFC 3339 timestamp string, got {_got(value)}")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise SnapshotRejected(path, f"not an RFC 3339 timestamp: {value[:64]!r}")
    if match["offset"] is None:
        raise SnapshotRejected(path, f"timestamp has no time zone offset (add Z or +HH:MM): {value[:64]!r}")
    if match["sign"] is None:
        tz: timezone = UTC
    else:
        hours, minutes = int(match["offset_hour"]), int(match["offset_minute"])
        if hours > 23 or minutes > 59:
            raise SnapshotRejected(path, f"time zone offset out of range: {value[:64]!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if match["sign"] == "-" else delta)
    second = int(match["second"])
    microsecond = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, microsecond = 59, 999999
    try:
        parsed = datetime(
            int(match["year"]), int(match["month"]), int(match["day"]),
            int(match["hour"]), int(match["minute"]), second, microsecond, tzinfo=tz,
        )
    except ValueError as exc:
        raise SnapshotRejected(path, f"not a valid date and time ({exc}): {value[:64]!r}") from None
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise SnapshotRejected(path, f"outside the years 1 to 9999 once converted to UTC: {value[:64]!r}") from None
    return parsed


def stored_time(value: Any, path: str) -> datetime | None:
    """A timestamp of an Engine object (e.g. inspect.Created) as stored in a column: None when unknown.

    Unknown is absent, null, the empty string or Go's zero time; anything else is parsed by parse_rfc3339, so it is
    valid or rejected, never stored as NULL in silence.
    """
    if value is None or value == "":
        return None
    parsed = parse_rfc3339(value, path)
    return None if parsed == GO_ZERO_TIME else parsed


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


def label_problem(key: Any, value: Any) -> str | None:
    """Why `key: value` is not a label, or None when it is.

    The rule is the agent's (inventory.agent.labels: KEY_RE, MAX_VALUE_LENGTH), so a label the agent accepts is
    never a rejected snapshot; the same rule serves agent.labels, an admin's labels and the label filter.
    """
    # fullmatch: the pattern ends in `$`, which a plain match lets through before a trailing newline.
    if not isinstance(key, str) or not LABEL_KEY_RE.fullmatch(key):
        return "key: 1 to 63 letters, digits or _.-/, starting with a letter or digit"
    if not isinstance(value, str):
        return f"value: expected a string, got {_got(value)}"
    if len(value) > LABEL_MAX_VALUE_LENGTH:
        return f"value: {len(value)} characters long (at most {LABEL_MAX_VALUE_LENGTH} characters)"
    if (problem := label_value_problem(value)) is not None:
        return f"value: {problem}"
    return None


def check_labels(labels: dict[str, Any], path: str) -> None:
    """Labels are {key: value} strings, the same rule wherever they come from (agent, admin)."""
    for key, value in labels.items():
        if (problem := label_problem(key, value)) is not None:
            raise SnapshotRejected(f"{path}.{key}", f"labels are key=value strings; {problem}")


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
    _field(inspect, "ImageName", NULLABLE_STR, here)  # Podman's
    stored_time(_field(inspect, "Created", str, here), f"{here}.Created")
    config = _field(inspect, "Config", NULLABLE_OBJECT, here)
    if config:
        _field(config, "Image", NULLABLE_STR, f"{here}.Config")
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
    # Null, like absent, is an image without a creation time.
    stored_time(_field(inspect, "Created", NULLABLE_STR, here), f"{here}.Created")
    size = inspect.get("Size")
    if type(size) is int and not -(2**63) <= size < 2**63:  # stored in a bigint column (another type is no size)
        raise SnapshotRejected(f"{here}.Size", f"out of range: {size} is not a size in bytes (at most 2**63 - 1)")
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


# --- Storage by content --------------------------------------------------------------------------------------------
# A stored snapshot is a small skeleton plus parts kept once each by the sha256 of their canonical bytes. A part's
# place in the skeleton (or in an enclosing part) holds a reference: a string of NUL and the part's sha256, written
# canonically as "\u0000<64 hex>". Canonical JSON of an object is the canonical JSON of its members put together, so
# the document is the skeleton with each reference replaced by its part's bytes, byte for byte. NUL is refused in
# every snapshot (find_nul), so no string of a document reads as a reference; `split_document` checks the reassembly
# anyway and stores the document whole (no references) if it ever differed.

MIN_PART_BYTES = 256
_REF_PREFIX = "\x00"
REF_RE = re.compile(rb'"\\u0000([0-9a-f]{64})"')


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


Path = tuple[str | int, ...]


class _Splitter:
    def __init__(self, dumps: Callable[[Any], bytes]) -> None:
        self.dumps = dumps
        self.parts: dict[str, bytes] = {}  # sha256 of the part's canonical bytes -> its stored form (with references)
        self.paths: dict[str, Path] = {}  # sha256 -> where the part first stands in the document
        self.full: dict[str, bytes] = {}  # sha256 -> the part's canonical bytes

    def part(self, value: Any, path: Path, inner: Callable[[Any, Path], Any] | None = None) -> Any:
        """A reference to `value` stored as a part (its children made parts first by `inner`), or `value` if small."""
        if not isinstance(value, (dict, list)):
            return value
        if inner is None:
            stored = full = self.dumps(value)
        else:
            # Children first: the part's canonical bytes are its stored form with their bytes spliced in, so a large
            # list of parts (the containers) is not serialised twice.
            stored = self.dumps(inner(value, path))
            full = splice(stored, self.full.__getitem__)
        if len(full) < MIN_PART_BYTES:
            return value
        sha = _sha(full)
        if sha not in self.parts:
            self.parts[sha] = stored
            self.full[sha] = full
            self.paths[sha] = path
        return _REF_PREFIX + sha

    def children(self, value: Any, path: Path) -> Any:
        """`value` with each member (of an object) or item (of an array) made a part."""
        if isinstance(value, dict):
            return {key: self.part(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.part(item, (*path, i)) for i, item in enumerate(value)]
        return value

    def container(self, item: Any, path: Path) -> Any:
        if not isinstance(item, dict):
            return item
        return {key: self.part(value, (*path, key)) if key in ("inspect", "top") else value
                for key, value in item.items()}

    def containers(self, items: list[Any], path: Path) -> list[Any]:
        # Items stay inline in the list (two references each): a part of their own would cost more than it saves.
        return [self.container(item, (*path, i)) for i, item in enumerate(items)]

    def skeleton(self, document: dict[str, Any]) -> dict[str, Any]:
        out = {key: self.part(value, (key,)) if key in ("host", "dockerd", "files", "audit") else value
               for key, value in document.items()}
        docker = document.get("docker")
        if isinstance(docker, dict):
            parted: dict[str, Any] = {}
            for key, value in docker.items():
                path = ("docker", key)
                if key == "info":
                    # Inline: the daemon's counters and clock change at every collection, and the skeleton is stored
                    # as a delta against the host's earlier one; its large members seldom change and are parts.
                    parted[key] = self.children(value, path)
                elif key == "containers" and isinstance(value, list):
                    parted[key] = self.part(value, path, self.containers)
                elif key in ("images", "networks") and isinstance(value, list):
                    parted[key] = self.part(value, path, self.children)
                else:
                    parted[key] = self.part(value, path)
            out["docker"] = parted
        return out


@dataclass(frozen=True)
class SplitDocument:
    skeleton: bytes  # the stored form of the whole document: canonical bytes with references
    parts: dict[str, bytes]  # sha256 -> stored form of each part
    paths: dict[str, Path] = field(default_factory=dict)  # sha256 -> the part's place in the document


def split_document(document: Any, canonical: bytes) -> SplitDocument:
    """The skeleton and parts that reassemble to `canonical` (the canonical bytes of `document`), byte for byte.

    Parts serialise as the whole document did: orjson, or the standard library when orjson refuses (integers past
    64 bits) or its bytes do not reassemble to `canonical`."""
    if not isinstance(document, dict):
        return SplitDocument(canonical, {})
    for dumps in (_orjson_dumps, _stdlib_dumps):
        splitter = _Splitter(dumps)
        try:
            skeleton = dumps(splitter.skeleton(document))
        except (orjson.JSONEncodeError, RecursionError, ValueError, TypeError, KeyError):
            continue
        split = SplitDocument(skeleton, splitter.parts, splitter.paths)
        # Each part's canonical bytes (`full`, what its sha256 is of) are its stored form with its own parts' bytes
        # spliced in, by construction: the check is that the skeleton with them is the document, byte for byte.
        if assemble(split.skeleton, split.parts.__getitem__, splitter.full) == canonical:
            return split
    return SplitDocument(canonical, {})


def part_at(stored: bytes, path: Path) -> tuple[str | None, Path]:
    """The reference found first on `path` in a stored form, and the rest of the path below it.

    (None, ()) when the path leads nowhere (a missing key, a small value kept inline)."""
    try:
        value: Any = orjson.loads(stored)
    except orjson.JSONDecodeError:
        value = json.loads(stored)  # integers past 64 bits
    for depth, key in enumerate(path):
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None, ()
        if isinstance(value, str) and value.startswith(_REF_PREFIX) and len(value) == 65:
            return value[1:], path[depth + 1:]
    return None, ()


def references(stored: bytes) -> list[str]:
    """The sha256 of each part a stored form refers to, in order."""
    return [match.decode() for match in REF_RE.findall(stored)]


def assemble(stored: bytes, part: Callable[[str], bytes], _memo: dict[str, bytes] | None = None) -> bytes:
    """The canonical bytes of a stored form: each reference replaced by its part's (recursively assembled) bytes."""
    if b'"\\u0000' not in stored:
        return stored
    memo = {} if _memo is None else _memo

    def expand(match: re.Match[bytes]) -> bytes:
        sha = match.group(1).decode()
        if sha not in memo:
            memo[sha] = assemble(part(sha), part, memo)
        return memo[sha]

    return REF_RE.sub(expand, stored)


def splice(stored: bytes, canonical_part: Callable[[str], bytes]) -> bytes:
    """A stored form with each reference replaced by `canonical_part(sha)`, bytes already assembled (no recursion)."""
    if b'"\\u0000' not in stored:
        return stored
    return REF_RE.sub(lambda match: canonical_part(match.group(1).decode()), stored)


def _orjson_dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
