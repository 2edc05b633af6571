"""Section 1: host configuration (partition, docker group, audit rules, engine version)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from compliance.engine.context import Context
from compliance.engine.core import (
    FAIL,
    MANUAL,
    NOT_APPLICABLE,
    PASS,
    Check,
    DataUnavailable,
    Kind,
    MissingData,
    Scope,
    Verdict,
    dig,
)

HOST, AUTO, POLICY, MAN = Scope.HOST, Kind.AUTOMATED, Kind.POLICY, Kind.MANUAL


# -- 1.1.1 -----------------------------------------------------------------------------------------------------------
def check_partition(ctx: Context) -> Verdict:
    root = ctx.need_info("DockerRootDir")
    if not root:
        raise MissingData("docker.info.DockerRootDir")
    userns = any("name=userns" in o for o in ctx.security_options())
    directory = root.rstrip("/").rsplit("/", 1)[0] if userns else root.rstrip("/")
    mounts = ctx.need_host("mounts") or []
    points = {m.get("mountpoint") for m in mounts if isinstance(m, dict)}
    holder = max((p for p in points if p and (directory == p or directory.startswith(p.rstrip("/") + "/"))),
                 key=len, default=None)  # fmt: skip
    evidence = {"docker.info.DockerRootDir": root, "host.mounts[].mountpoint": holder}
    if userns:
        evidence["docker.info.SecurityOptions"] = "name=userns"
    if directory in points:
        return PASS, f"{directory} is a mount point of its own", evidence
    return FAIL, f"{directory} is not a separate partition (it lives on {holder or 'an unknown mount'})", evidence


# -- 1.1.2 -----------------------------------------------------------------------------------------------------------
def check_docker_group(ctx: Context) -> Verdict:
    group = ctx.need_host("groups.docker")
    if group is None:
        return PASS, "there is no docker group: only root can use the Docker socket", {"host.groups.docker": None}
    members = sorted(need_list(group, "members", "host.groups.docker."))
    evidence: dict[str, Any] = {"host.groups.docker.members": members}
    if not members:
        return PASS, "the docker group has no members", evidence
    trusted = ctx.policy.trusted_docker_users
    if trusted is None:
        return MANUAL, f"confirm these docker group members are trusted: {', '.join(members)}", evidence
    untrusted = [m for m in members if m not in trusted]
    evidence["policy.trusted_docker_users"] = sorted(trusted)
    if untrusted:
        return FAIL, f"docker group members not in the trusted list: {', '.join(untrusted)}", evidence
    return PASS, "every docker group member is in the trusted list", evidence


def need_list(obj: dict[str, Any], key: str, prefix: str) -> list[Any]:
    if key not in obj:
        raise MissingData(prefix + key)
    return list(obj[key] or ())


# -- 1.1.3 - 1.1.18: audit rules ---------------------------------------------------------------------------------------
def audit_watches(ctx: Context) -> tuple[list[str], dict[str, Any]]:
    """Paths the audit rules watch (`-w PATH`, `-F path=`, `-F dir=`), from the loaded rules when auditctl ran."""
    cached = ctx.cache.get("audit")
    if cached is not None:
        return cached
    audit = ctx.snapshot.get("audit")
    if not isinstance(audit, dict):
        raise MissingData("audit")
    if audit.get("auditctl_available") and audit.get("rules_loaded") is not None:
        lines, source = list(audit["rules_loaded"]), "audit.rules_loaded"
    else:
        files = audit.get("rules_files")
        if files is None:
            raise MissingData("audit.rules_files")
        lines = [ln for rules in files.values() for ln in rules or () if not ln.lstrip().startswith("#")]
        source = "audit.rules_files"
    watched: list[str] = []
    for line in lines:
        words = line.split()
        for i, word in enumerate(words):
            if word == "-w" and i + 1 < len(words):
                watched.append(words[i + 1])
            elif word.startswith(("path=", "dir=")):
                watched.append(word.split("=", 1)[1])
    ctx.cache["audit"] = (watched, {"source": source, "rules": len(lines)})
    return ctx.cache["audit"]


def _covered(path: str, watched: list[str]) -> str | None:
    for w in watched:
        if w == path or (w.endswith("/") and path.startswith(w)) or path.startswith(w + "/"):
            return w
    return None


def unit_file(ctx: Context, unit: str) -> list[str]:
    """Where systemd reads `unit` from: its FragmentPath when the agent reported one, else the usual places."""
    systemd = dig(ctx.snapshot, "dockerd.systemd") or {}
    fragment = dig(systemd.get(unit), "fragment_path")
    if fragment:
        return [fragment]
    return [f"/etc/systemd/system/{unit}", f"/lib/systemd/system/{unit}", f"/usr/lib/systemd/system/{unit}"]


def _config_file(ctx: Context) -> list[str]:
    try:
        return [ctx.daemon().config_file]
    except DataUnavailable:
        return ["/etc/docker/daemon.json"]


def _data_root(ctx: Context) -> list[str]:
    root = dig(ctx.info, "DockerRootDir")
    return [root] if root and root != "/var/lib/docker" else ["/var/lib/docker"]


def _dockerd_exe(ctx: Context) -> list[str]:
    exe = dig(ctx.snapshot, "dockerd.exe")
    return [exe] if exe and exe != "/usr/bin/dockerd" else ["/usr/bin/dockerd"]


def _fixed(path: str) -> Callable[[Context], list[str]]:
    return lambda ctx: [path]


def audit_check(resolve: Callable[[Context], list[str]]) -> Callable[[Context], Verdict]:
    def check(ctx: Context) -> Verdict:
        candidates = resolve(ctx)
        present = candidates
        try:
            files = ctx.files()
        except DataUnavailable:
            files = {}
        known = [files[p] for p in candidates if p in files]
        if known and not any(f.get("exists") for f in known):
            return NOT_APPLICABLE, f"{candidates[0]} does not exist on this host", {"files[].exists": False}
        if known:
            present = [f["path"] for f in known if f.get("exists")]
        path = present[0]
        watched, meta = audit_watches(ctx)
        rule = next((w for p in present if (w := _covered(p, watched))), None)
        evidence = {f"{meta['source']}[watch]": rule, "path": path}
        if rule:
            return PASS, f"{path} is audited (rule on {rule})", evidence
        return FAIL, f"no audit rule watches {path}", evidence

    return check


AUDIT_TARGETS: list[tuple[str, str, Callable[[Context], list[str]]]] = [
    ("1.1.3", "Audit the Docker daemon binary", _dockerd_exe),
    ("1.1.4", "Audit /run/containerd", _fixed("/run/containerd")),
    ("1.1.5", "Audit the Docker data root (/var/lib/docker)", _data_root),
    ("1.1.6", "Audit /etc/docker", _fixed("/etc/docker")),
    ("1.1.7", "Audit the docker.service unit file", lambda ctx: unit_file(ctx, "docker.service")),
    ("1.1.8", "Audit containerd.sock", _fixed("/run/containerd/containerd.sock")),
    ("1.1.9", "Audit the docker.socket unit file", lambda ctx: unit_file(ctx, "docker.socket")),
    ("1.1.10", "Audit /etc/default/docker", _fixed("/etc/default/docker")),
    ("1.1.11", "Audit daemon.json (the --config-file in use)", _config_file),
    ("1.1.12", "Audit /etc/containerd/config.toml", _fixed("/etc/containerd/config.toml")),
    ("1.1.13", "Audit /etc/sysconfig/docker", _fixed("/etc/sysconfig/docker")),
    ("1.1.14", "Audit /usr/bin/containerd", _fixed("/usr/bin/containerd")),
    ("1.1.15", "Audit /usr/bin/containerd-shim", _fixed("/usr/bin/containerd-shim")),
    ("1.1.16", "Audit /usr/bin/containerd-shim-runc-v1", _fixed("/usr/bin/containerd-shim-runc-v1")),
    ("1.1.17", "Audit /usr/bin/containerd-shim-runc-v2", _fixed("/usr/bin/containerd-shim-runc-v2")),
    ("1.1.18", "Audit /usr/bin/runc", _fixed("/usr/bin/runc")),
]


# -- 1.2 -------------------------------------------------------------------------------------------------------------
def check_hardening(ctx: Context) -> Verdict:
    evidence = {"host.os_release.PRETTY_NAME": dig(ctx.host, "os_release.PRETTY_NAME"), "host.kernel": dig(ctx.host, "kernel")}
    return MANUAL, "judge host hardening with an operating-system benchmark for this distribution", evidence


@cache
def release_table() -> dict[str, Any]:
    text = resources.files("compliance.engine").joinpath("data/docker_engine_releases.json").read_text()
    table = json.loads(text)
    table["by_line"] = {row["line"]: row for row in table["lines"]}
    return table


VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def _engine_name(version: dict[str, Any]) -> str:
    for component in version.get("Components") or ():
        if isinstance(component, dict) and component.get("Name"):
            return str(component["Name"])
    return "Engine"


def check_version(ctx: Context) -> Verdict:
    version = ctx.docker.get("version")
    if not isinstance(version, dict):
        raise MissingData("docker.version")
    number = version.get("Version")
    if not number:
        raise MissingData("docker.version.Version")
    engine = _engine_name(version)
    evidence: dict[str, Any] = {"docker.version.Version": number}
    if "podman" in engine.lower():
        evidence["docker.version.Components[0].Name"] = engine
        return MANUAL, f"{engine} {number}: compare with the distribution's supported Podman releases", evidence
    match = VERSION_RE.match(str(number))
    if not match:
        return MANUAL, f"cannot read the release line of version {number!r}", evidence
    table = release_table()
    major, minor = match.group(1), match.group(2)
    row = table["by_line"].get(f"{major}.{minor}") or table["by_line"].get(major)
    evidence["release_table"] = table["table_version"]
    if row is None:
        return MANUAL, f"Docker Engine {number} is not in the release table of {table['table_version']}", evidence
    evidence["release_line"] = {"line": row["line"], "eol": row["eol"], "latest": row["latest"]}
    today = ctx.today()
    if row["eol"] and date.fromisoformat(row["eol"]) <= today:
        return FAIL, f"Docker Engine {row['line']} reached end of life on {row['eol']} (running {number})", evidence
    newer = f"; {row['latest']} is the newest known release of that line" if row["latest"] != number else ""
    return PASS, f"Docker Engine {number} is on a supported release line{newer}", evidence


CHECKS: list[Check] = [
    Check("1.1.1", "Separate partition for the Docker data root", HOST, AUTO, ("docker.info", "mounts"),
          check_partition, "DockerRootDir is a mount point",
          "pass when DockerRootDir (its parent under userns-remap) is a mount point in host.mounts"),
    Check("1.1.2", "Only trusted users in the docker group", HOST, POLICY, ("groups",), check_docker_group,
          "members within policy.trusted_docker_users",
          "fail when a docker group member is not in policy.trusted_docker_users; manual with the members when unset"),
    *[
        Check(control, title, HOST, AUTO, ("audit",), audit_check(resolve), "an audit watch on the path",
              "pass when a loaded audit rule (-w, -F path=, -F dir=) covers the path; not_applicable when it is absent")
        for control, title, resolve in AUDIT_TARGETS
    ],
    Check("1.2.1", "Host hardened", HOST, MAN, (), check_hardening, "hardened per an OS benchmark",
          "manual: delegated to an operating-system benchmark"),
    Check("1.2.2", "Docker Engine on a supported release line", HOST, AUTO, ("docker.version",), check_version,
          "a release line before its end of life",
          "fail when the release line's end-of-life date (shipped table) is on or before collected_at"),
]  # fmt: skip
