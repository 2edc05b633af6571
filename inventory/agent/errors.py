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
    "docker.images",
    "docker.networks",
    "docker.plugins",
    "docker.swarm",
)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ErrorLog:
    """Collects {collector, error} entries; `guard` turns an exception in a block into one entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []

    def add(self, collector: str, error: str) -> None:
        if collector not in COLLECTORS:
            raise ValueError(f"unknown collector name {collector!r}")
        self.entries.append({"collector": collector, "error": error})

    @contextmanager
    def guard(self, collector: str, what: str = "") -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - every failure of a collector is reported, none stops the run
            self.add(collector, f"{what}: {describe(exc)}" if what else describe(exc))
