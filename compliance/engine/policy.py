"""Site policy: the facts a site decides that turn a manual recommendation into an automated one.

Every field defaults to unset (None); a check whose policy field is unset stays `manual` and reports the facts a person
needs to judge. `Policy.from_dict` reads the JSON/YAML an admin edits and rejects unknown keys and bad values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


class PolicyError(ValueError):
    """A policy document that cannot be used: the message names the field."""


Ulimits = dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Policy:
    # 1.1.2: user names allowed in the docker group.
    trusted_docker_users: frozenset[str] | None = None
    # 4.2: registries or repository prefixes images may come from ("registry.example.com", "docker.io/library").
    trusted_registries: tuple[str, ...] | None = None
    # 5.9: host ports containers may publish, as (low, high) ranges.
    allowed_host_ports: tuple[tuple[int, int], ...] | None = None
    # 2.10 and 5.25: the cgroup parent containers are expected to run under.
    expected_cgroup_parent: str | None = None
    # 2.8 and 5.19: expected ulimits, name -> (soft, hard).
    expected_ulimits: Ulimits | None = None
    # 6.1: at most this many images not used by any container (stopped ones count as users).
    max_unused_images: int | None = None
    # 6.2: at most this many stopped containers.
    max_stopped_containers: int | None = None
    # 5.1: whether this host is meant to run swarm mode.
    swarm_mode_needed: bool | None = None
    # 7.7: the longest node certificate lifetime the site accepts, in days.
    max_node_cert_expiry_days: int | None = None
    # 4.4 from imported Trivy scans: a scan counts while younger than this many days (unset: scans decide nothing).
    image_scan_max_age_days: int | None = None
    # 4.4: an image fails when its scan finds a fixable vulnerability of these severities (default CRITICAL, HIGH).
    image_scan_fail_severities: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Policy:
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise PolicyError("policy: expected an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PolicyError(f"policy: unknown field {unknown[0]!r}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            values[key] = _PARSERS[key](key, value)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "trusted_docker_users":
                value = sorted(value)
            elif f.name == "allowed_host_ports":
                value = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in value]
            elif f.name == "expected_ulimits":
                value = {name: f"{soft}:{hard}" for name, (soft, hard) in value.items()}
            elif f.name in ("trusted_registries", "image_scan_fail_severities"):
                value = list(value)
            out[f.name] = value
        return out


def _str_list(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"policy.{key}: expected a list of non-empty strings")
    return [v.strip() for v in value]


def _users(key: str, value: Any) -> frozenset[str]:
    return frozenset(_str_list(key, value))


def _registries(key: str, value: Any) -> tuple[str, ...]:
    return tuple(v.rstrip("/").lower() for v in _str_list(key, value))


def _port(key: str, text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise PolicyError(f"policy.{key}: {text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise PolicyError(f"policy.{key}: {port} is out of range")
    return port


def _ports(key: str, value: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise PolicyError(f"policy.{key}: expected a list of ports or 'low-high' ranges")
    ranges = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            port = _port(key, str(item))
            ranges.append((port, port))
        elif isinstance(item, str):
            low, _, high = item.partition("-")
            lo = _port(key, low.strip())
            hi = _port(key, high.strip()) if high else lo
            if hi < lo:
                raise PolicyError(f"policy.{key}: range {item!r} is reversed")
            ranges.append((lo, hi))
        else:
            raise PolicyError(f"policy.{key}: expected a port or a 'low-high' range, got {item!r}")
    return tuple(ranges)


def _cgroup(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"policy.{key}: expected a non-empty string")
    return value.strip()


def parse_ulimit(text: str) -> tuple[str, tuple[int, int]]:
    """`nofile=1024:2048` (or `nofile=1024`) -> ("nofile", (1024, 2048)); raises ValueError."""
    name, _, limits = text.partition("=")
    soft, _, hard = limits.partition(":")
    return name.strip(), (int(soft), int(hard or soft))


def _ulimits(key: str, value: Any) -> Ulimits:
    if not isinstance(value, dict):
        raise PolicyError(f"policy.{key}: expected an object such as {{'nofile': '1024:2048'}}")
    out: Ulimits = {}
    for name, limits in value.items():
        try:
            if isinstance(limits, dict):
                out[name] = (int(limits["soft"]), int(limits["hard"]))
            else:
                out[name] = parse_ulimit(f"{name}={limits}")[1]
        except (KeyError, TypeError, ValueError):
            raise PolicyError(f"policy.{key}.{name}: expected 'soft:hard' or {{'soft': n, 'hard': n}}") from None
    return out


def _count(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"policy.{key}: expected a non-negative integer")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"policy.{key}: expected true or false")
    return value


SCAN_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


def _severities(key: str, value: Any) -> tuple[str, ...]:
    wanted = tuple(v.upper() for v in _str_list(key, value))
    unknown = [v for v in wanted if v not in SCAN_SEVERITIES]
    if unknown:
        raise PolicyError(f"policy.{key}: {unknown[0]!r} is not one of {', '.join(SCAN_SEVERITIES)}")
    return wanted


_PARSERS = {
    "trusted_docker_users": _users,
    "trusted_registries": _registries,
    "allowed_host_ports": _ports,
    "expected_cgroup_parent": _cgroup,
    "expected_ulimits": _ulimits,
    "max_unused_images": _count,
    "max_stopped_containers": _count,
    "swarm_mode_needed": _bool,
    "max_node_cert_expiry_days": _count,
    "image_scan_max_age_days": _count,
    "image_scan_fail_severities": _severities,
}
