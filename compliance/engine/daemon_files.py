"""Section 3: ownership and permissions of the daemon's files, judged from the agent's stat data.

Modes are compared as bitmasks (0622 is *not* "644 or more restrictive"), unlike docker-bench's decimal comparison.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from compliance.engine.context import Context, is_true
from compliance.engine.core import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    Check,
    DataUnavailable,
    Kind,
    MissingData,
    Scope,
    Verdict,
    dig,
    mode_within,
    parse_mode,
)
from compliance.engine.host import unit_file

HOST, AUTO = Scope.HOST, Kind.AUTOMATED
CERTS_D = "/etc/docker/certs.d/"

# A resolver names the files a check judges: a list of groups of alternative paths (the first that exists counts).
Groups = list[list[str]]


def _unit(unit: str) -> Callable[[Context], Groups]:
    def resolve(ctx: Context) -> Groups:
        groups = [unit_file(ctx, unit)]
        systemd = dig(ctx.snapshot, "dockerd.systemd") or {}
        groups += [[d] for d in dig(systemd.get(unit), "dropins") or ()]
        return groups

    return resolve


def _fixed(*paths: str) -> Callable[[Context], Groups]:
    return lambda ctx: [list(paths)]


def _config_file(ctx: Context) -> Groups:
    try:
        return [[ctx.daemon().config_file]]
    except DataUnavailable:
        config = dig(ctx.snapshot, "dockerd.config_file")
        return [[config or "/etc/docker/daemon.json"]]


def _registry_certs(ctx: Context) -> Groups:
    files = ctx.files()
    groups = []
    for path, entry in files.items():
        if not path.startswith(CERTS_D):
            continue
        kind = entry.get("type", "file")
        if kind == "link":  # a symlinked certificate counts when it points at a file (or at what was not stat-ed)
            target = files.get(_link_target(entry))
            kind = "file" if target is None else target.get("type", "file")
        if kind in ("file", "link"):
            groups.append([path])
    return groups


def _tls(name: str, default: str) -> Callable[[Context], Groups]:
    def resolve(ctx: Context) -> Groups:
        daemon = ctx.daemon()
        path, _ = daemon.setting(name, name)
        if path:
            return [[str(path)]]
        tls, _ = daemon.setting("tls", "tls")
        verify, _ = daemon.setting("tlsverify", "tlsverify")
        # dockerd falls back to ~/.docker/<file> when TLS is on and no path is given.
        return [[f"/root/.docker/{default}"]] if is_true(tls) or is_true(verify) else []

    return resolve


def _entry(ctx: Context, group: list[str]) -> dict[str, Any] | None:
    files = ctx.files()
    known = [files[p] for p in group if p in files]
    if not known:
        raise MissingData(f"files[{group[0]}]")
    entry = next((f for f in known if f.get("exists")), None)
    return None if entry is None else _follow(files, entry)


MAX_LINKS = 8


def _link_target(entry: dict[str, Any]) -> str:
    """A symlink's target as an absolute path (a relative target is resolved against the link's directory)."""
    target = str(entry.get("symlink_target") or "")
    if target and not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(entry["path"]), target)
    return posixpath.normpath(target) if target else ""


def _follow(files: dict[str, dict[str, Any]], entry: dict[str, Any]) -> dict[str, Any] | None:
    """The entry of what a symlink points at (the agent stats the target too), with the link's path as `link`."""
    link = entry["path"]
    hops = 0
    while entry.get("type") == "link":
        target = _link_target(entry)
        if not target:
            raise MissingData(f"files[{entry['path']}].symlink_target")
        hops += 1
        if hops > MAX_LINKS:
            raise DataUnavailable(f"{link} is a chain of more than {MAX_LINKS} symlinks", {f"files[{link}].type": "link"})
        found = files.get(target)
        if found is None:
            raise DataUnavailable(
                f"{link} is a symlink to {target}, which the snapshot does not stat (files[{target}] is missing)",
                {f"files[{link}].symlink_target": target, f"files[{target}]": None},
            )
        if not found.get("exists"):
            return None
        entry = found
    return entry if entry["path"] == link else {**entry, "link": link}


def _field(entry: dict[str, Any], key: str) -> Any:
    if entry.get(key) is None:
        raise MissingData(f"files[{entry['path']}].{key}")
    return entry[key]


def owner_test(group_name: str) -> Callable[[Context, dict[str, Any]], tuple[bool, dict[str, Any], str]]:
    def test(ctx: Context, entry: dict[str, Any]) -> tuple[bool, dict[str, Any], str]:
        uid, gid = _field(entry, "uid"), _field(entry, "gid")
        path = entry["path"]
        owner = f"{entry.get('owner') or uid}:{entry.get('group') or gid}"
        evidence = {f"files[{path}].uid": uid, f"files[{path}].gid": gid}
        if group_name == "root":
            ok = uid == 0 and gid == 0
        else:
            docker_gid = dig(ctx.host, f"groups.{group_name}.gid")
            ok = uid == 0 and (entry.get("group") == group_name or (docker_gid is not None and gid == docker_gid))
        return ok, evidence, f"{path} is owned by {owner}"

    return test


def mode_test(allowed: int) -> Callable[[Context, dict[str, Any]], tuple[bool, dict[str, Any], str]]:
    def test(ctx: Context, entry: dict[str, Any]) -> tuple[bool, dict[str, Any], str]:
        raw = _field(entry, "mode")
        mode = parse_mode(raw)
        if mode is None:
            raise DataUnavailable(f"cannot read the mode {raw!r} of {entry['path']}")
        path = entry["path"]
        return mode_within(mode, allowed), {f"files[{path}].mode": raw}, f"{path} has mode {mode:04o}"

    return test


def file_check(resolve: Callable[[Context], Groups], test: Callable[..., tuple[bool, dict[str, Any], str]],
               want: str, absent: str) -> Callable[[Context], Verdict]:  # fmt: skip
    def check(ctx: Context) -> Verdict:
        groups = resolve(ctx)
        if not groups:
            return NOT_APPLICABLE, absent, {}
        entries = [e for g in groups if (e := _entry(ctx, g)) is not None]
        if not entries:
            return NOT_APPLICABLE, f"{groups[0][0]} does not exist on this host", {f"files[{groups[0][0]}].exists": False}
        evidence: dict[str, Any] = {}
        bad: list[str] = []
        good: list[str] = []
        for entry in entries:
            ok, seen, text = test(ctx, entry)
            if entry.get("link"):
                evidence[f"files[{entry['link']}].symlink_target"] = entry["path"]
                text = f"{entry['link']} -> {text}"
            evidence.update(seen)
            (good if ok else bad).append(text)
        if bad:
            return FAIL, f"{'; '.join(bad)} (expected {want})", evidence
        return PASS, "; ".join(good) if len(good) < 4 else f"{len(good)} files are {want}", evidence

    return check


ROOT, DOCKER = owner_test("root"), owner_test("docker")
SERVICE, SOCKET = _unit("docker.service"), _unit("docker.socket")
DOCKER_SOCK = _fixed("/var/run/docker.sock", "/run/docker.sock")
CONTAINERD_SOCK = _fixed("/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock")
NO_TLS = "the daemon does not use TLS"

# (control, title, resolver, test, expected, message when there is nothing to judge)
FILE_CHECKS: list[tuple[str, str, Callable[[Context], Groups], Callable[..., Any], str, str]] = [
    ("3.1", "docker.service owned by root:root", SERVICE, ROOT, "root:root", ""),
    ("3.2", "docker.service mode 644 or stricter", SERVICE, mode_test(0o644), "0644 or stricter", ""),
    ("3.3", "docker.socket owned by root:root", SOCKET, ROOT, "root:root", ""),
    ("3.4", "docker.socket mode 644 or stricter", SOCKET, mode_test(0o644), "0644 or stricter", ""),
    ("3.5", "/etc/docker owned by root:root", _fixed("/etc/docker"), ROOT, "root:root", ""),
    ("3.6", "/etc/docker mode 755 or stricter", _fixed("/etc/docker"), mode_test(0o755), "0755 or stricter", ""),
    (
        "3.7",
        "Registry certificates owned by root:root",
        _registry_certs,
        ROOT,
        "root:root",
        "there are no registry certificates under /etc/docker/certs.d",
    ),
    (
        "3.8",
        "Registry certificates mode 444 or stricter",
        _registry_certs,
        mode_test(0o444),
        "0444 or stricter",
        "there are no registry certificates under /etc/docker/certs.d",
    ),
    ("3.9", "TLS CA certificate owned by root:root", _tls("tlscacert", "ca.pem"), ROOT, "root:root", NO_TLS),
    (
        "3.10",
        "TLS CA certificate mode 444 or stricter",
        _tls("tlscacert", "ca.pem"),
        mode_test(0o444),
        "0444 or stricter",
        NO_TLS,
    ),
    ("3.11", "Server certificate owned by root:root", _tls("tlscert", "cert.pem"), ROOT, "root:root", NO_TLS),
    (
        "3.12",
        "Server certificate mode 444 or stricter",
        _tls("tlscert", "cert.pem"),
        mode_test(0o444),
        "0444 or stricter",
        NO_TLS,
    ),
    ("3.13", "Server key owned by root:root", _tls("tlskey", "key.pem"), ROOT, "root:root", NO_TLS),
    ("3.14", "Server key mode 400", _tls("tlskey", "key.pem"), mode_test(0o400), "0400", NO_TLS),
    ("3.15", "Docker socket owned by root:docker", DOCKER_SOCK, DOCKER, "root:docker", ""),
    ("3.16", "Docker socket mode 660 or stricter", DOCKER_SOCK, mode_test(0o660), "0660 or stricter", ""),
    ("3.17", "daemon.json owned by root:root", _config_file, ROOT, "root:root", ""),
    ("3.18", "daemon.json mode 644 or stricter", _config_file, mode_test(0o644), "0644 or stricter", ""),
    ("3.19", "/etc/default/docker owned by root:root", _fixed("/etc/default/docker"), ROOT, "root:root", ""),
    ("3.20", "/etc/default/docker mode 644 or stricter", _fixed("/etc/default/docker"), mode_test(0o644), "0644 or stricter", ""),
    (
        "3.21",
        "/etc/sysconfig/docker mode 644 or stricter",
        _fixed("/etc/sysconfig/docker"),
        mode_test(0o644),
        "0644 or stricter",
        "",
    ),
    ("3.22", "/etc/sysconfig/docker owned by root:root", _fixed("/etc/sysconfig/docker"), ROOT, "root:root", ""),
    ("3.23", "containerd socket owned by root:root", CONTAINERD_SOCK, ROOT, "root:root", ""),
    ("3.24", "containerd socket mode 660 or stricter", CONTAINERD_SOCK, mode_test(0o660), "0660 or stricter", ""),
]

TLS_CONTROLS = frozenset({"3.9", "3.10", "3.11", "3.12", "3.13", "3.14"})

CHECKS: list[Check] = [
    Check(control, title, HOST, AUTO, ("files", "dockerd") if control in TLS_CONTROLS else ("files",),
          file_check(resolve, test, want, absent), want,
          f"stat of the file(s): {'owner' if test in (ROOT, DOCKER) else 'mode as a bitmask'} must be {want}; "
          "not_applicable when absent")
    for control, title, resolve, test, want, absent in FILE_CHECKS
]  # fmt: skip
