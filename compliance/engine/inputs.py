"""Turn what a person hands `manage.py evaluate` into a snapshot: a snapshot file, or plain `docker inspect` output."""

from __future__ import annotations

from typing import Any

from compliance.engine.core import Scope

SCHEMA_V1 = "plimsoll.snapshot/v1"


class InputError(ValueError):
    """A document that is neither a snapshot nor `docker inspect` output; the message says why."""


def is_snapshot(doc: Any) -> bool:
    return isinstance(doc, dict) and (doc.get("schema") == SCHEMA_V1 or ("docker" in doc and "agent" in doc))


def snapshot_from_document(doc: Any) -> tuple[dict[str, Any], frozenset[Scope]]:
    """The snapshot to judge and the target scopes the document can speak for (all, for a real snapshot)."""
    if is_snapshot(doc):
        if doc.get("schema") not in (None, SCHEMA_V1):
            raise InputError(f"unsupported snapshot schema {doc.get('schema')!r} (expected {SCHEMA_V1})")
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
    snapshot = {
        "schema": SCHEMA_V1,
        "agent": {"errors": []},
        "docker": {"containers": containers, "images": images if images else None},
    }
    return snapshot, frozenset(scopes)
