"""Secrets never leave the host: environment values are replaced by their sha256, keys stay."""

from __future__ import annotations

import hashlib
import re
from typing import Any

REDACTED_RE = re.compile(r"^<redacted:sha256:[0-9a-f]{64}>$")


def redact_value(value: str) -> str:
    return f"<redacted:sha256:{hashlib.sha256(value.encode()).hexdigest()}>"


def redact_env(env: list[str] | None) -> list[str] | None:
    """["KEY=value", ...] -> ["KEY=<redacted:sha256:...>", ...]; already redacted values are kept."""
    if env is None:
        return None
    out = []
    for item in env:
        key, sep, value = item.partition("=")
        out.append(item if sep and REDACTED_RE.match(value) else f"{key}={redact_value(value if sep else '')}")
    return out


def redact_config_env(obj: dict[str, Any], *sections: str) -> dict[str, Any]:
    """A copy of `obj` whose `<section>.Env` lists are redacted; everything else is the same object, unchanged."""
    out = dict(obj)
    for section in sections:
        config = out.get(section)
        if isinstance(config, dict) and isinstance(config.get("Env"), list):
            out[section] = {**config, "Env": redact_env(config["Env"])}
    return out


def redact_container(inspect: dict[str, Any]) -> dict[str, Any]:
    return redact_config_env(inspect, "Config")


def redact_image(inspect: dict[str, Any]) -> dict[str, Any]:
    # An image's ENV can carry a build-time secret just as a container's can.
    return redact_config_env(inspect, "Config", "ContainerConfig")


def without_join_tokens(swarm: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in swarm.items() if key != "JoinTokens"}


def redact_service(service: dict[str, Any]) -> dict[str, Any]:
    """A swarm service's container spec carries Env too, in Spec and PreviousSpec."""
    out = dict(service)
    for spec_key in ("Spec", "PreviousSpec"):
        spec = out.get(spec_key)
        template = spec.get("TaskTemplate") if isinstance(spec, dict) else None
        container_spec = template.get("ContainerSpec") if isinstance(template, dict) else None
        if isinstance(container_spec, dict) and isinstance(container_spec.get("Env"), list):
            container_spec = {**container_spec, "Env": redact_env(container_spec["Env"])}
            out[spec_key] = {**spec, "TaskTemplate": {**template, "ContainerSpec": container_spec}}
    return out
