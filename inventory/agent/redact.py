"""Secrets never leave the host: environment values are replaced by their sha256, keys stay.

Every function here is pure (it returns copies, never changes its argument), idempotent (redacting an already
redacted object changes nothing) and tolerant of odd shapes (non-dict objects, missing keys, non-string items are
never an exception). The server imports them to redact snapshots from agents that do not, so keep this module free
of Django and of anything outside the standard library.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

REDACTED_RE = re.compile(r"^<redacted:sha256:[0-9a-f]{64}>$")


def redact_value(value: str) -> str:
    return f"<redacted:sha256:{hashlib.sha256(value.encode()).hexdigest()}>"


def is_redacted(value: Any) -> bool:
    return isinstance(value, str) and REDACTED_RE.match(value) is not None


def _redact_env_item(item: Any) -> Any:
    if not isinstance(item, str):
        # Not what the engine sends; whatever it holds is hidden all the same.
        return redact_value(repr(item))
    if is_redacted(item):
        return item
    key, sep, value = item.partition("=")
    return item if sep and is_redacted(value) else f"{key}={redact_value(value if sep else '')}"


def redact_env(env: list[str] | None) -> list[str] | None:
    """["KEY=value", ...] -> ["KEY=<redacted:sha256:...>", ...]; already redacted values are kept."""
    if env is None:
        return None
    if isinstance(env, str):
        return env if is_redacted(env) else redact_value(env)  # type: ignore[return-value]
    if not isinstance(env, list | tuple):
        return redact_value(repr(env))  # type: ignore[return-value]
    return [_redact_env_item(item) for item in env]


def redact_config_env(obj: dict[str, Any], *sections: str) -> dict[str, Any]:
    """A copy of `obj` whose `<section>.Env` lists are redacted; everything else is the same object, unchanged."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    for section in sections:
        config = out.get(section)
        if isinstance(config, dict) and config.get("Env") is not None:
            out[section] = {**config, "Env": redact_env(config["Env"])}
    return out


def redact_container(inspect: dict[str, Any]) -> dict[str, Any]:
    return redact_config_env(inspect, "Config")


def redact_image(inspect: dict[str, Any]) -> dict[str, Any]:
    # An image's ENV can carry a build-time secret just as a container's can.
    return redact_config_env(inspect, "Config", "ContainerConfig")


def without_join_tokens(swarm: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(swarm, dict):
        return swarm
    return {key: value for key, value in swarm.items() if key != "JoinTokens"}


def redact_service(service: dict[str, Any]) -> dict[str, Any]:
    """A swarm service's container spec carries Env too, in Spec and PreviousSpec."""
    if not isinstance(service, dict):
        return service
    out = dict(service)
    for spec_key in ("Spec", "PreviousSpec"):
        spec = out.get(spec_key)
        template = spec.get("TaskTemplate") if isinstance(spec, dict) else None
        container_spec = template.get("ContainerSpec") if isinstance(template, dict) else None
        if isinstance(container_spec, dict) and container_spec.get("Env") is not None:
            container_spec = {**container_spec, "Env": redact_env(container_spec["Env"])}
            out[spec_key] = {**spec, "TaskTemplate": {**template, "ContainerSpec": container_spec}}
    return out


# --- image history ---------------------------------------------------------------------------------------------
# CreatedBy as the classic builder writes it:  /bin/sh -c #(nop)  ENV A=1 B="two words"   (or ENV KEY VALUE)
# as BuildKit and buildah write it:            ENV A=1 / ARG PASS=x / RUN |2 A=1 B=2 /bin/sh -c make
# The classic builder's build-arg prefix:      |1 TOKEN=abc /bin/sh -c make

_INSTRUCTION_RE = re.compile(r"^(?P<lead>\s*(?:.*?#\(nop\)\s*)?)(?P<instr>ENV|ARG)(?P<space>\s+)(?P<rest>\S.*)$", re.I | re.S)
_BUILD_ARGS_RE = re.compile(r"^(?P<lead>\s*(?:RUN\s+)?)\|(?P<count>\d+)(?P<rest>\s.*)$", re.I | re.S)
_KEY_RE = re.compile(r"[^\s=\"']+")


def _scan_value(text: str, pos: int) -> int:
    """End of the value starting at `pos`: quoted parts up to their closing quote, the rest up to whitespace."""
    while pos < len(text) and not text[pos].isspace():
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            pos += 2
        elif char in "\"'":
            close = pos + 1
            while close < len(text) and text[close] != char:
                close += 2 if text[close] == "\\" and char == '"' else 1
            pos = min(close + 1, len(text))
        else:
            pos += 1
    return pos


def _unquote(value: str) -> str:
    """The value the instruction sets (what Config.Env holds), so both redact to the same hash."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.S)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return re.sub(r"\\(.)", r"\1", value, flags=re.S)


def _redact_pairs(text: str, limit: int | None = None) -> tuple[str, int]:
    """Redact the values of leading KEY=VALUE pairs (at most `limit`); returns the new text and the pair count."""
    out: list[str] = []
    pos = 0
    pairs = 0
    while pos < len(text) and (limit is None or pairs < limit):
        start = pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        key = _KEY_RE.match(text, pos)
        if not key or key.end() >= len(text) or text[key.end()] != "=":
            pos = start
            break
        value_start = key.end() + 1
        value_end = _scan_value(text, value_start)
        value = text[value_start:value_end]
        out.append(text[start:value_start])
        out.append(value if is_redacted(value) else redact_value(_unquote(value)))
        pos = value_end
        pairs += 1
    return "".join(out) + text[pos:], pairs


def redact_created_by(line: str) -> str:
    """A history line with every ENV/ARG value and build-arg value replaced by its sha256; keys and the rest stay."""
    if not isinstance(line, str):
        return line
    match = _BUILD_ARGS_RE.match(line)
    if match:
        rest, _ = _redact_pairs(match["rest"], int(match["count"]))
        return f"{match['lead']}|{match['count']}{rest}"
    match = _INSTRUCTION_RE.match(line)
    if not match:
        return line
    head = f"{match['lead']}{match['instr']}{match['space']}"
    rest = match["rest"]
    redacted, pairs = _redact_pairs(rest)
    if pairs or match["instr"].upper() == "ARG":
        return head + redacted  # ARG NAME without a default sets nothing
    # The legacy form, ENV KEY VALUE: everything after the key is the value.
    key = re.match(r"(\S+)(\s+)(.*?)(\s*)$", rest, re.S)
    if not key or not key[3] or is_redacted(key[3]):
        return line
    return f"{head}{key[1]}{key[2]}{redact_value(key[3])}{key[4]}"


def redact_history(history: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """GET /images/{id}/history with the values of ENV, ARG and build args in CreatedBy redacted."""
    if not isinstance(history, list):
        return history
    out: list[Any] = []
    for item in history:
        if isinstance(item, dict) and isinstance(item.get("CreatedBy"), str):
            item = {**item, "CreatedBy": redact_created_by(item["CreatedBy"])}
        out.append(item)
    return out
