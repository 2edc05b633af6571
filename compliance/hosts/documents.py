"""A snapshot document read for people: host facts, daemon configuration, containers with their security settings,
images and networks, each as display text; and the difference between two snapshots of one host.

A document passed validation at ingest, but most of its fields may be null or of an unexpected shape (older agents,
engines other than Docker): every read here tolerates that and shows "—".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compliance.engine.core import dig
from compliance.posture.services import TargetRow

NONE = "—"


def display(value: Any) -> str:
    """One value as the pages show it: yes/no, lists joined, objects as compact JSON, nothing as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return str(value)


def _ports(bindings: Any) -> str:
    if not isinstance(bindings, dict) or not bindings:
        return NONE
    parts = []
    for port, hosts in sorted(bindings.items()):
        for host in hosts if isinstance(hosts, list) else [None]:
            if isinstance(host, dict):
                parts.append(f"{host.get('HostIp') or '*'}:{host.get('HostPort') or '?'} -> {port}")
            else:
                parts.append(f"(not published) {port}")
    return ", ".join(parts) or NONE


def _mounts(mounts: Any) -> str:
    if not isinstance(mounts, list) or not mounts:
        return NONE
    parts = []
    for mount in mounts:
        if not isinstance(mount, dict):
            continue
        source = mount.get("Source") or mount.get("Name") or "?"
        access = "rw" if mount.get("RW") else "ro"
        parts.append(f"{source} -> {mount.get('Destination') or '?'} ({access}, {mount.get('Type') or '?'})")
    return ", ".join(parts) or NONE


def _restart(policy: Any) -> str:
    if not isinstance(policy, dict) or not policy.get("Name"):
        return NONE
    retries = policy.get("MaximumRetryCount")
    return f"{policy['Name']} (at most {retries})" if retries else str(policy["Name"])


def _limit(value: Any) -> str:
    # The Engine writes 0 (or -1 for pids) for "no limit".
    if value in (None, 0, -1):
        return "unlimited"
    return display(value)


def _healthcheck(value: Any) -> str:
    if not isinstance(value, dict) or not value.get("Test"):
        return NONE
    return display(value.get("Test"))


# The inspect fields that decide CIS section 5 (container runtime), as the snapshot page lists them and the diff
# compares them: (label, how to read it from a container's inspect object).
CONTAINER_SETTINGS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("Image", lambda i: display(dig(i, "Config.Image"))),
    ("Image id", lambda i: display(i.get("Image"))),
    ("Privileged", lambda i: display(dig(i, "HostConfig.Privileged"))),
    ("User", lambda i: display(dig(i, "Config.User")) if dig(i, "Config.User") else "root (unset)"),
    ("Read-only root filesystem", lambda i: display(dig(i, "HostConfig.ReadonlyRootfs"))),
    ("Capabilities added", lambda i: display(dig(i, "HostConfig.CapAdd"))),
    ("Capabilities dropped", lambda i: display(dig(i, "HostConfig.CapDrop"))),
    ("Network mode", lambda i: display(dig(i, "HostConfig.NetworkMode"))),
    ("PID mode", lambda i: display(dig(i, "HostConfig.PidMode"))),
    ("IPC mode", lambda i: display(dig(i, "HostConfig.IpcMode"))),
    ("UTS mode", lambda i: display(dig(i, "HostConfig.UTSMode"))),
    ("User namespace mode", lambda i: display(dig(i, "HostConfig.UsernsMode"))),
    ("Security options", lambda i: display(dig(i, "HostConfig.SecurityOpt"))),
    ("AppArmor profile", lambda i: display(i.get("AppArmorProfile"))),
    ("Mounts", lambda i: _mounts(i.get("Mounts"))),
    ("Published ports", lambda i: _ports(dig(i, "HostConfig.PortBindings"))),
    ("Devices", lambda i: display(dig(i, "HostConfig.Devices"))),
    ("Memory limit", lambda i: _limit(dig(i, "HostConfig.Memory"))),
    ("CPU shares", lambda i: _limit(dig(i, "HostConfig.CpuShares"))),
    ("PIDs limit", lambda i: _limit(dig(i, "HostConfig.PidsLimit"))),
    ("Restart policy", lambda i: _restart(dig(i, "HostConfig.RestartPolicy"))),
    ("Cgroup parent", lambda i: display(dig(i, "HostConfig.CgroupParent"))),
    ("Health check", lambda i: _healthcheck(dig(i, "Config.Healthcheck"))),
)


@dataclass
class ContainerView:
    name: str
    container_id: str
    state: str
    running: bool
    settings: dict[str, str]

    def get(self, label: str) -> str:
        return self.settings.get(label, NONE)

    # The columns of the snapshot page's container table.
    @property
    def image(self) -> str:
        return self.get("Image")

    @property
    def privileged(self) -> str:
        return self.get("Privileged")

    @property
    def user(self) -> str:
        return self.get("User")

    @property
    def read_only(self) -> str:
        return self.get("Read-only root filesystem")

    @property
    def capabilities(self) -> str:
        added, dropped = self.get("Capabilities added"), self.get("Capabilities dropped")
        parts = [f"{verb} {caps}" for verb, caps in (("added", added), ("dropped", dropped)) if caps != NONE]
        return "; ".join(parts) or "default set"

    @property
    def network_mode(self) -> str:
        return self.get("Network mode")

    @property
    def pid_mode(self) -> str:
        return self.get("PID mode")

    @property
    def mounts(self) -> str:
        return self.get("Mounts")


@dataclass
class ImageView:
    image_id: str
    tags: str
    created: str
    size: int | None
    user: str


@dataclass
class NetworkView:
    name: str
    driver: str
    scope: str
    internal: str
    containers: int


def _list(doc: dict[str, Any], path: str) -> list[dict[str, Any]]:
    value = dig(doc, path)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def containers(doc: dict[str, Any]) -> list[ContainerView]:
    views = []
    for item in _list(doc, "docker.containers"):
        inspect = item.get("inspect") if isinstance(item.get("inspect"), dict) else {}
        name = str(inspect.get("Name") or inspect.get("Id", "")[:12]).lstrip("/")
        state = dig(inspect, "State.Status")
        views.append(ContainerView(
            name=name, container_id=str(inspect.get("Id") or ""), state=str(state or ""),
            running=bool(dig(inspect, "State.Running")),
            settings={label: read(inspect) for label, read in CONTAINER_SETTINGS},
        ))
    return sorted(views, key=lambda c: (c.name, c.container_id))


def images(doc: dict[str, Any]) -> list[ImageView]:
    views = []
    for item in _list(doc, "docker.images"):
        inspect = item.get("inspect") if isinstance(item.get("inspect"), dict) else {}
        size = inspect.get("Size")
        tags = inspect.get("RepoTags")
        views.append(ImageView(
            image_id=str(inspect.get("Id") or ""), tags=display(tags) if tags else "<untagged>",
            created=display(inspect.get("Created")), size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            user=display(dig(inspect, "Config.User")) if dig(inspect, "Config.User") else "root (unset)",
        ))
    return sorted(views, key=lambda i: (i.tags, i.image_id))


def networks(doc: dict[str, Any]) -> list[NetworkView]:
    views = []
    for item in _list(doc, "docker.networks"):
        attached = item.get("Containers")
        views.append(NetworkView(
            name=str(item.get("Name") or item.get("Id", "")[:12]), driver=display(item.get("Driver")),
            scope=display(item.get("Scope")), internal=display(item.get("Internal")),
            containers=len(attached) if isinstance(attached, dict) else 0,
        ))
    return sorted(views, key=lambda n: n.name)


def host_facts(doc: dict[str, Any]) -> dict[str, str]:
    """The host as the snapshot saw it."""
    sockets = dig(doc, "host.listening_sockets")
    return {
        "Hostname": display(dig(doc, "host.hostname")),
        "Machine id": display(dig(doc, "host.machine_id")),
        "Operating system": display(dig(doc, "host.os_release.PRETTY_NAME") or dig(doc, "host.os_release.ID")),
        "Kernel": display(dig(doc, "host.kernel")),
        "Architecture": display(dig(doc, "host.arch")),
        "AppArmor": display(dig(doc, "host.lsm.apparmor_enabled")),
        "SELinux": display(dig(doc, "host.lsm.selinux")),
        "docker group members": display(dig(doc, "host.groups.docker")),
        "DOCKER_CONTENT_TRUST": display(dig(doc, "host.env.DOCKER_CONTENT_TRUST")),
        "Listening sockets": display(sorted(
            f"{s.get('proto', '?')} {s.get('addr', '?')}:{s.get('port', '?')} ({s.get('comm') or '?'})"
            for s in sockets if isinstance(s, dict)
        ) if isinstance(sockets, list) else None),
        "Audit rules loaded": display(dig(doc, "audit.rules_loaded") is not None and bool(dig(doc, "audit.rules_loaded"))),
    }


def daemon_settings(doc: dict[str, Any]) -> dict[str, str]:
    """The daemon's configuration as the snapshot saw it: the engine's own report, its command line, daemon.json."""
    argv = dig(doc, "dockerd.argv")
    settings = {
        "Engine version": display(dig(doc, "docker.version.Version") or dig(doc, "docker.info.ServerVersion")),
        "API version": display(dig(doc, "docker.version.ApiVersion")),
        "Storage driver": display(dig(doc, "docker.info.Driver")),
        "Logging driver": display(dig(doc, "docker.info.LoggingDriver")),
        "Cgroup driver": display(dig(doc, "docker.info.CgroupDriver")),
        "Cgroup version": display(dig(doc, "docker.info.CgroupVersion")),
        "Security options": display(dig(doc, "docker.info.SecurityOptions")),
        "Live restore": display(dig(doc, "docker.info.LiveRestoreEnabled")),
        "Rootless": display(dig(doc, "docker.info.Rootless")),
        "Experimental": display(dig(doc, "docker.info.ExperimentalBuild")),
        "Default runtime": display(dig(doc, "docker.info.DefaultRuntime")),
        "Data root": display(dig(doc, "docker.info.DockerRootDir")),
        "Insecure registries": display(dig(doc, "docker.info.RegistryConfig.InsecureRegistryCIDRs")),
        "Swarm": display(dig(doc, "docker.info.Swarm.LocalNodeState")),
        "dockerd command line": " ".join(map(str, argv)) if isinstance(argv, list) and argv else NONE,
        "dockerd user id": display(dig(doc, "dockerd.uid")),
        "daemon.json path": display(dig(doc, "dockerd.config_file")),
        "daemon.json parse error": display(dig(doc, "dockerd.daemon_json.parse_error")),
    }
    raw = dig(doc, "dockerd.daemon_json.raw")
    if isinstance(raw, dict):
        for key in sorted(raw):
            settings[f"daemon.json {key}"] = display(raw[key])
    return settings


# The diff.

@dataclass
class Change:
    name: str
    before: str
    after: str


@dataclass
class ContainerChange:
    name: str
    changes: list[Change]


@dataclass
class Flip:
    """A result whose posture status differs between the two snapshots."""

    before: TargetRow
    after: TargetRow


@dataclass
class SnapshotDiff:
    containers_added: list[ContainerView] = field(default_factory=list)
    containers_removed: list[ContainerView] = field(default_factory=list)
    containers_changed: list[ContainerChange] = field(default_factory=list)
    images_added: list[ImageView] = field(default_factory=list)
    images_removed: list[ImageView] = field(default_factory=list)
    daemon_changes: list[Change] = field(default_factory=list)
    host_changes: list[Change] = field(default_factory=list)
    flipped: list[Flip] = field(default_factory=list)
    results_added: list[TargetRow] = field(default_factory=list)
    results_removed: list[TargetRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def _changes(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    return [
        Change(name, before.get(name, NONE), after.get(name, NONE))
        for name in [*before, *(k for k in after if k not in before)]
        if before.get(name, NONE) != after.get(name, NONE)
    ]


def _result_key(row: TargetRow) -> tuple[str, str, str]:
    # Host results are keyed without the hostname, so a renamed host compares its own results.
    r = row.result
    return (r.control, r.target_kind, "" if r.target_kind == "host" else r.target_name)


def diff(
    before_doc: dict[str, Any], after_doc: dict[str, Any], before_rows: list[TargetRow], after_rows: list[TargetRow]
) -> SnapshotDiff:
    """What changed from one snapshot of a host to a later one. Containers are matched by name (a container
    re-created from a new image keeps its name and shows as changed), images by id, results by control and target."""
    result = SnapshotDiff()
    old = {c.name: c for c in containers(before_doc)}
    new = {c.name: c for c in containers(after_doc)}
    result.containers_added = [new[n] for n in sorted(set(new) - set(old))]
    result.containers_removed = [old[n] for n in sorted(set(old) - set(new))]
    for name in sorted(set(old) & set(new)):
        a, b = old[name], new[name]
        changes = _changes({"State": a.state or NONE, **a.settings}, {"State": b.state or NONE, **b.settings})
        if a.container_id != b.container_id:
            changes.insert(0, Change("Container id", a.container_id[:12], b.container_id[:12]))
        if changes:
            result.containers_changed.append(ContainerChange(name, changes))
    old_images = {i.image_id: i for i in images(before_doc)}
    new_images = {i.image_id: i for i in images(after_doc)}
    result.images_added = [i for i in images(after_doc) if i.image_id not in old_images]
    result.images_removed = [i for i in images(before_doc) if i.image_id not in new_images]
    result.daemon_changes = _changes(daemon_settings(before_doc), daemon_settings(after_doc))
    result.host_changes = _changes(host_facts(before_doc), host_facts(after_doc))
    old_rows = {_result_key(r): r for r in before_rows}
    new_rows = {_result_key(r): r for r in after_rows}
    for row in after_rows:
        key = _result_key(row)
        previous = old_rows.get(key)
        if previous is None:
            result.results_added.append(row)
        elif previous.status != row.status:
            result.flipped.append(Flip(previous, row))
    result.results_removed = [r for r in before_rows if _result_key(r) not in new_rows]
    return result
