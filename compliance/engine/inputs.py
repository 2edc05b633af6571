"""Turn what a person hands `manage.py evaluate` into a snapshot: a snapshot file, or plain `docker inspect` output."""

from __future__ import annotations

from typing import Any

from compliance.engine.core import Scope

SCHEMA_V1 = "plimsoll.snapshot/v1"


class InputError(ValueError):
    """A document that is neither a snapshot nor `docker inspect` output; the message says why."""


def is_snapshot(doc: Any) -> bool:
    return isinstance(doc, dict) and (doc.get("schema") == SCHEMA_V1 or ("docker" in doc and "agent" in doc))


def docker_info(doc: Any) -> dict[str, Any]:
    """`docker info --format '{{json .}}'` output, checked: an object the daemon answered (GET /info)."""
    if not isinstance(doc, dict):
        raise InputError(f"docker info output is a JSON object, not {type(doc).__name__}")
    if "ServerVersion" not in doc and "SecurityOptions" not in doc:
        errors = doc.get("ServerErrors")
        if errors:
            raise InputError(f"docker info could not reach the daemon: {'; '.join(map(str, errors))}")
        raise InputError("not docker info output: neither ServerVersion nor SecurityOptions is there")
    options = doc.get("SecurityOptions")
    if options is not None and not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
        raise InputError("SecurityOptions of docker info is a list of strings")
    return doc


def daemon_json(doc: Any) -> dict[str, Any]:
    """A daemon.json document, checked: dockerd reads one JSON object of options."""
    if not isinstance(doc, dict):
        raise InputError(f"daemon.json holds a JSON object of dockerd options, not {type(doc).__name__}")
    return doc


def snapshot_from_document(
    doc: Any, info: dict[str, Any] | None = None, daemon: dict[str, Any] | None = None, daemon_path: str = ""
) -> tuple[dict[str, Any], frozenset[Scope]]:
    """The snapshot to judge and the target scopes the document can speak for (all, for a real snapshot).

    For docker inspect output, `info` (docker info) and `daemon` (daemon.json, read from `daemon_path`) give the
    host's context the container checks need: security options (5.2, 5.3, 5.22) and daemon defaults (5.26).
    """
    if is_snapshot(doc):
        if doc.get("schema") not in (None, SCHEMA_V1):
            raise InputError(f"unsupported snapshot schema {doc.get('schema')!r} (expected {SCHEMA_V1})")
        if info is not None or daemon is not None:
            raise InputError("a snapshot holds its host's docker info and daemon.json: --info and --daemon-json "
                             "apply to docker inspect output only")
        return doc, frozenset(Scope)
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise InputError("the file holds an empty array: no containers to judge")
    containers: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("Id"), str):
            raise InputError(f"item {index} is not a docker inspect object (no Id)")
        if "HostConfig" in item or "State" in item:
            containers.append({"inspect": item, "top": None})
        elif "RepoTags" in item or "RootFS" in item:
            images.append({"inspect": item, "history": None})
        else:
            raise InputError(f"item {index} is neither a container nor an image inspect object")
    scopes = {Scope.CONTAINER} if containers else set()
    if images:
        scopes.add(Scope.IMAGE)
    snapshot: dict[str, Any] = {
        "schema": SCHEMA_V1,
        "agent": {"errors": []},
        "docker": {"containers": containers, "images": images if images else None},
    }
    if info is not None:
        snapshot["docker"]["info"] = docker_info(info)
    if daemon is not None:
        snapshot["dockerd"] = {
            "argv": None,
            "argv_unknown": True,
            "config_file": daemon_path or "daemon.json",
            "daemon_json": {"raw": daemon_json(daemon), "parse_error": None},
        }
    return snapshot, frozenset(scopes)
