"""The engine's vocabulary: statuses, results, check definitions and the errors a check raises for missing data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

BENCHMARK = "cis-docker-1.6.0"
ENGINE_VERSION = "1.1.0"

_MISSING = object()


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INFO = "info"
    MANUAL = "manual"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


PASS, FAIL, INFO = Status.PASS, Status.FAIL, Status.INFO
MANUAL, NOT_APPLICABLE, ERROR = Status.MANUAL, Status.NOT_APPLICABLE, Status.ERROR


class Kind(StrEnum):
    """How a recommendation is judged: from data alone, from data and a site policy, or by a person."""

    AUTOMATED = "automated"
    POLICY = "policy"
    MANUAL = "manual"


class Scope(StrEnum):
    HOST = "host"
    CONTAINER = "container"
    IMAGE = "image"


class DataUnavailable(Exception):
    """The data a check needs is missing or unreadable; the check's result becomes `error` with this message."""

    def __init__(self, message: str, evidence: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or {}


class MissingData(DataUnavailable):
    """A field the check reads is absent from the snapshot."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the snapshot lacks {path}", {path: None})
        self.path = path


# What a check function returns: (status, message, evidence) or (status, message, evidence, expected).
Verdict = tuple[Any, ...]


@dataclass(slots=True)
class CheckResult:
    """The judgement of one recommendation on one target (the host, a container or an image)."""

    control: str
    target_kind: str
    target_name: str
    target_id: str
    status: Status
    evidence: dict[str, Any]
    expected: Any
    message: str
    target_state: str | None = None

    def to_dict(self) -> dict[str, Any]:
        target: dict[str, Any] = {"kind": self.target_kind, "name": self.target_name, "id": self.target_id}
        if self.target_state is not None:
            target["state"] = self.target_state
        return {
            "control": self.control,
            "target": target,
            "status": str(self.status),
            "evidence": self.evidence,
            "expected": self.expected,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Check:
    """One CIS recommendation: how it is judged (`kind`), over which targets, from which agent collectors."""

    control: str
    title: str
    scope: Scope
    kind: Kind
    reads: tuple[str, ...]
    func: Callable[..., Verdict]
    expected: Any = None
    rule: str = ""
    swarm_only: bool = False

    @property
    def section(self) -> str:
        return self.control.split(".", 1)[0]


def dig(obj: Any, path: str, default: Any = None) -> Any:
    """Read a dotted path (`"HostConfig.Privileged"`) from nested dicts; `default` when any step is absent."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return default
        obj = obj.get(part, _MISSING)
        if obj is _MISSING:
            return default
    return obj


def need(obj: Any, path: str, prefix: str = "") -> Any:
    """As `dig`, but an absent step raises MissingData naming `prefix + path` (null values are returned as None)."""
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise MissingData(prefix + path)
        obj = obj[part]
    return obj


def parse_mode(mode: str | int | None) -> int | None:
    """A file mode as an int ("0644" -> 0o644); None when absent or malformed."""
    if mode is None:
        return None
    if isinstance(mode, int):
        return mode & 0o7777
    try:
        return int(mode, 8) & 0o7777
    except ValueError:
        return None


def mode_within(mode: int, allowed: int) -> bool:
    """True when `mode` grants nothing beyond `allowed` (a bitmask test: 0622 is not within 0644)."""
    return mode & ~allowed == 0
