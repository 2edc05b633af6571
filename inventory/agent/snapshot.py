"""One snapshot, format v1: everything the host lets the agent read, and a list of what it could not."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Any

import docker
from docker.utils import kwargs_from_env

from inventory.agent import __version__
from inventory.agent.collect.audit import collect_audit
from inventory.agent.collect.dockerd import collect_dockerd
from inventory.agent.collect.engine import EngineAPI, collect_docker
from inventory.agent.collect.files import collect_files
from inventory.agent.collect.host import collect_host
from inventory.agent.errors import ErrorLog
from inventory.agent.hostfs import HostFS

SCHEMA = "plimsoll.snapshot/v1"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DOCKER_TIMEOUT = 60


class DockerUnreachable(Exception):
    """The engine API did not answer at all, so there is nothing worth sending."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach Docker at {url}: {reason}")
        self.url = url


def docker_url(docker_host: str | None) -> str:
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def connect(docker_host: str | None) -> docker.APIClient:
    """A low-level client: --docker-host if given, else the environment (DOCKER_HOST, TLS), else the local socket."""
    url = docker_url(docker_host)
    kwargs: dict[str, Any] = {"base_url": docker_host} if docker_host else kwargs_from_env()
    kwargs.setdefault("base_url", url)
    try:
        # version="auto" asks /version first, so an engine that is not there fails here, once.
        return docker.APIClient(version="auto", timeout=DOCKER_TIMEOUT, **kwargs)
    except docker.errors.DockerException as exc:
        raise DockerUnreachable(url, _root_cause(exc)) from exc


def _root_cause(exc: BaseException) -> str:
    """The innermost OS error ("Connection refused", "No such file or directory"), else the exception's text."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return str(exc).removeprefix("Error while fetching server API version: ")


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def collect_snapshot(
    api: EngineAPI, host_root: str = "/", machine_id: str | None = None, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """`machine_id` overrides the host's own; `labels` are the agent's configured host labels (agent.labels)."""
    fs = HostFS(host_root)
    errors = ErrorLog()
    collected_at = now_rfc3339()
    host = collect_host(fs, errors, machine_id)
    docker_part = collect_docker(api, errors)
    dockerd = collect_dockerd(fs, errors)
    files = collect_files(fs, dockerd, docker_part["info"], errors)
    audit = collect_audit(fs, errors)
    return {
        "schema": SCHEMA,
        "agent": {
            "version": __version__,
            "collected_at": collected_at,
            "run_as_uid": os.geteuid(),
            "errors": errors.entries,
            "labels": dict(labels or {}),
        },
        "host": host,
        "dockerd": dockerd,
        "files": files,
        "audit": audit,
        "docker": docker_part,
    }


def canonical_bytes(document: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the form the server takes its sha256 over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_of(document: Any) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()
