"""What the agent could not read, listed in agent.errors so the server reports "error", never "pass"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

COLLECTORS = (
    "host",
    "mounts",
    "groups",
    "sockets",
    "lsm",
    "dockerd",
    "daemon_json",
    "systemd",
    "files",
    "audit",
    "docker.info",
    "docker.version",
    "docker.containers",
    "docker.containers.top",  # one container's processes (5.7); always with a target
    "docker.images",
    "docker.networks",
    "docker.plugins",
    "docker.swarm",
)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ErrorLog:
    """Collects {collector, error} entries; `guard` turns an exception in a block into one entry.

    An entry with a `target` (a container or image id) says only that object could not be read; one without says
    the collector's whole set is unknown.
    """

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []

    def add(self, collector: str, error: str, target: str | None = None) -> None:
        if collector not in COLLECTORS:
            raise ValueError(f"unknown collector name {collector!r}")
        entry = {"collector": collector, "error": error}
        if target is not None:
            entry["target"] = target
        self.entries.append(entry)

    @contextmanager
    def guard(self, collector: str, what: str = "") -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - every failure of a collector is reported, none stops the run
            self.add(collector, f"{what}: {describe(exc)}" if what else describe(exc))
