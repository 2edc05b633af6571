"""Small, named edits of a snapshot: each test case changes one field of a real sample."""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from typing import Any

Mutation = Callable[[dict[str, Any]], None]


def container(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    for item in snapshot["docker"]["containers"]:
        if item["inspect"]["Name"].lstrip("/") == name:
            return item
    raise LookupError(name)


def set_path(obj: Any, path: str, value: Any) -> None:
    """Set a dotted path; numeric parts index lists ("Mounts.0.RW")."""
    parts = path.split(".")
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, list) else obj.setdefault(part, {})
    last = parts[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


def noop(snapshot: dict[str, Any]) -> None:
    return None


def at(path: str, value: Any) -> Mutation:
    return lambda s: set_path(s, path, copy.deepcopy(value))


def on(name: str, path: str, value: Any) -> Mutation:
    """Change a field of one container's inspect output."""
    return lambda s: set_path(container(s, name)["inspect"], path, copy.deepcopy(value))


def top(name: str, *commands: str) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        container(s, name)["top"]["Processes"] = [[f"{i + 1} 0        {cmd}"] for i, cmd in enumerate(commands)]

    return mutate


def dockerd_args(*args: str) -> Mutation:
    return lambda s: s["dockerd"]["argv"].extend(args)


def daemon_json(key: str, value: Any) -> Mutation:
    return lambda s: s["dockerd"]["daemon_json"]["raw"].__setitem__(key, value)


def file_attr(path: str, **fields: Any) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        entry = next(f for f in s["files"] if f["path"] == path)
        entry.update(fields)

    return mutate


def image(path: str, value: Any) -> Mutation:
    return lambda s: set_path(s["docker"]["images"][0]["inspect"], path, value)


def history(created_by: str) -> Mutation:
    """Add a newest layer to the image's history."""

    def mutate(s: dict[str, Any]) -> None:
        s["docker"]["images"][0]["history"].insert(0, {"Created": 1796111600, "CreatedBy": created_by, "Size": 0})

    return mutate


def drop_audit_rule(path: str) -> Mutation:
    """Remove the watch on `path` and on any directory above it (a directory watch covers what is inside)."""

    def covers(rule: str) -> bool:
        watched = rule.split()[1]
        return path == watched or path.startswith(watched + "/")

    def mutate(s: dict[str, Any]) -> None:
        s["audit"]["rules_loaded"] = [r for r in s["audit"]["rules_loaded"] if not covers(r)]

    return mutate


def swarm_port_addr(addr: str) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        for sock in s["host"]["listening_sockets"]:
            if sock["port"] == 2377:
                sock["addr"] = addr

    return mutate


def chain(*mutations: Mutation) -> Mutation:
    def mutate(s: dict[str, Any]) -> None:
        for m in mutations:
            m(s)

    return mutate


def retag_newer_image(s: dict[str, Any]) -> None:
    """The tag the containers were created from now points at a newer build."""
    old = s["docker"]["images"][0]
    tag = old["inspect"]["RepoTags"][0]
    old["inspect"]["RepoTags"] = []
    newer = {"inspect": {**old["inspect"], "Id": "sha256:" + "ab" * 32, "RepoTags": [tag],
                         "Created": "2026-12-01T08:00:00Z"}, "history": list(old["history"])}  # fmt: skip
    s["docker"]["images"].append(newer)


def add_unused_image(s: dict[str, Any]) -> None:
    old = s["docker"]["images"][0]
    s["docker"]["images"].append(
        {"inspect": {**old["inspect"], "Id": "sha256:" + "cd" * 32, "RepoTags": ["localhost/old:1"]}, "history": []}
    )


TLS = dockerd_args(
    "-H", "tcp://10.0.0.5:2376", "--tlsverify", "--tlscacert=/etc/docker/tls/ca.pem",
    "--tlscert=/etc/docker/tls/server-cert.pem", "--tlskey=/etc/docker/tls/server-key.pem",
)  # fmt: skip

SWARM_MANAGER = chain(
    at("docker.info.Swarm", {
        "LocalNodeState": "active", "ControlAvailable": True, "Managers": 3, "Nodes": 5, "NodeID": "n1",
        "Cluster": {"Spec": {"EncryptionConfig": {"AutoLockManagers": True},
                             "CAConfig": {"NodeCertExpiry": 90 * 86_400 * 10**9}}},
    }),
    at("docker.swarm", {"is_manager": True, "inspect": {"Spec": {
        "EncryptionConfig": {"AutoLockManagers": True}, "CAConfig": {"NodeCertExpiry": 90 * 86_400 * 10**9}}},
        "nodes": [], "services": [], "secrets_count": 2}),
    lambda s: s["host"]["listening_sockets"].append(
        {"proto": "tcp", "addr": "10.0.0.5", "port": 2377, "pid": 812, "comm": "dockerd"}),
    lambda s: s["docker"]["networks"].append(
        {"Id": "ov1", "Name": "backend", "Driver": "overlay", "Scope": "swarm", "Options": {"encrypted": ""}}),
)  # fmt: skip


def agent_error(collector: str, target: str | None = None, of: str | None = None) -> Mutation:
    """Add an `agent.errors` entry; `target` names one object by id, `of` one container by name (its id is used)."""

    def mutate(s: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"collector": collector, "error": "permission denied"}
        if of is not None:
            entry["target"] = container(s, of)["inspect"]["Id"]
        elif target is not None:
            entry["target"] = target
        s["agent"]["errors"].append(entry)

    return mutate


def drop_container(name: str) -> Mutation:
    """The agent could not read one container: it is absent from the list, and a targeted error names it."""

    def mutate(s: dict[str, Any]) -> None:
        item = container(s, name)
        s["docker"]["containers"].remove(item)
        s["agent"]["errors"].append(
            {"collector": "docker.containers", "target": item["inspect"]["Id"], "error": "No such container"}
        )

    return mutate


def listening(port: int, pid: int, comm: str, addr: str = "0.0.0.0") -> Mutation:
    return lambda s: s["host"]["listening_sockets"].append({"proto": "tcp", "addr": addr, "port": port, "pid": pid, "comm": comm})


def drop_unit(unit: str) -> Mutation:
    return lambda s: s["dockerd"]["systemd"].pop(unit)


def symlink(path: str, target: str, stat_target: bool = True, **fields: Any) -> Mutation:
    """Make `path` a symlink to `target` (relative to its directory, as on disk); the target gets its old stat plus
    `fields`, unless `stat_target` is False (the agent did not report it)."""

    def mutate(s: dict[str, Any]) -> None:
        entry = next(f for f in s["files"] if f["path"] == path)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        s["files"] = [f for f in s["files"] if f["path"] != resolved]
        if stat_target:
            s["files"].append({**entry, **fields, "path": resolved, "symlink_target": None})
        entry.update(type="link", mode="0777", uid=0, gid=0, owner="root", group="root", symlink_target=target)

    return mutate
