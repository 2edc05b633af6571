"""Section 5, part 1: container runtime isolation (security profiles, capabilities, mounts, ports, namespaces).

Every container is judged, stopped ones too: a stopped container can be started again with the same configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compliance.engine.context import ContainerView, Context
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

HOST, CONTAINER, AUTO, POLICY = Scope.HOST, Scope.CONTAINER, Kind.AUTOMATED, Kind.POLICY
CONTAINERS = ("docker.containers",)


def check_swarm_mode(ctx: Context) -> Verdict:
    active = ctx.swarm_active()
    evidence: dict[str, Any] = {"docker.info.Swarm.LocalNodeState": dig(ctx.info, "Swarm.LocalNodeState")}
    if not active:
        return PASS, "swarm mode is not enabled", evidence
    needed = ctx.policy.swarm_mode_needed
    evidence["policy.swarm_mode_needed"] = needed
    if needed is None:
        return MANUAL, "swarm mode is active: confirm this host needs it", evidence
    if needed:
        return PASS, "swarm mode is active, as the policy requires", evidence
    return FAIL, "swarm mode is active on a host the policy says does not need it", evidence


def _lsm_enabled(ctx: Context, key: str, option: str) -> bool:
    value = dig(ctx.host, f"lsm.{key}")
    if value is not None:
        return value not in (False, "", "disabled", "none")
    if ctx.info is not None and ctx.info.get("SecurityOptions") is not None:
        return any(f"name={option}" in str(o) for o in ctx.info["SecurityOptions"])
    raise DataUnavailable(f"the snapshot says neither host.lsm.{key} nor docker.info.SecurityOptions",
                          {f"host.lsm.{key}": None})  # fmt: skip


def check_apparmor(ctx: Context, c: ContainerView) -> Verdict:
    profile = c.get("AppArmorProfile")
    evidence = {"AppArmorProfile": profile}
    if profile and profile != "unconfined":
        return PASS, f"AppArmor profile {profile} is applied", evidence
    if not _lsm_enabled(ctx, "apparmor_enabled", "apparmor"):
        return NOT_APPLICABLE, "AppArmor is not enabled on this host", evidence
    why = "the AppArmor profile is unconfined" if profile else "the container runs without an AppArmor profile"
    return FAIL, why, evidence


def security_opts(c: ContainerView) -> list[str]:
    return [str(o) for o in c.host("SecurityOpt") or ()]


def check_selinux(ctx: Context, c: ContainerView) -> Verdict:
    opts = security_opts(c)
    label = c.inspect.get("ProcessLabel") or ""
    evidence: dict[str, Any] = {"HostConfig.SecurityOpt": opts, "ProcessLabel": label}
    if not _lsm_enabled(ctx, "selinux", "selinux"):
        return NOT_APPLICABLE, "SELinux is not enabled on this host", evidence
    if any(o.replace(":", "=", 1) == "label=disable" for o in opts):
        return FAIL, "SELinux separation is switched off for this container (label=disable)", evidence
    if label or any(o.startswith(("label=", "label:")) for o in opts):
        return PASS, "the container runs with an SELinux label", evidence
    return FAIL, "the container has no SELinux label (is the daemon's selinux-enabled on?)", evidence


DEFAULT_CAPS = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                          "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})  # fmt: skip


def caps(values: Any) -> list[str]:
    return [str(v).upper().removeprefix("CAP_") for v in values or ()]


def check_capabilities(ctx: Context, c: ContainerView) -> Verdict:
    added = caps(c.host("CapAdd"))
    evidence = {"HostConfig.CapAdd": c.hc.get("CapAdd") if c.hc else None}
    if c.host("Privileged"):
        # --privileged grants every capability while CapAdd stays empty; docker-bench misses this.
        evidence["HostConfig.Privileged"] = True
        return FAIL, "the container is privileged, which grants every capability", evidence
    extra = sorted(a for a in added if a not in DEFAULT_CAPS)
    if extra:
        return FAIL, f"capabilities beyond the default set are added: {', '.join(extra)}", evidence
    return PASS, "no capability beyond the default set is added", evidence


def check_privileged(ctx: Context, c: ContainerView) -> Verdict:
    privileged = c.host("Privileged")
    evidence = {"HostConfig.Privileged": privileged}
    if privileged:
        return FAIL, "the container is privileged", evidence
    return PASS, "the container is not privileged", evidence


SENSITIVE_EXACT = frozenset({"/", "/dev"})
SENSITIVE_TREES = ("/boot", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr")


def mounts(c: ContainerView) -> list[dict[str, Any]]:
    value = c.get("Mounts")
    return [m for m in value or () if isinstance(m, dict)]


def _sensitive(source: str) -> bool:
    source = source.rstrip("/") or "/"
    return source in SENSITIVE_EXACT or any(source == t or source.startswith(t + "/") for t in SENSITIVE_TREES)


def check_sensitive_mounts(ctx: Context, c: ContainerView) -> Verdict:
    bad = [f"{m.get('Source')}:{m.get('Destination')}" for m in mounts(c)
           if m.get("Type", "bind") == "bind" and m.get("RW", True) and _sensitive(str(m.get("Source") or ""))]  # fmt: skip
    if bad:
        return FAIL, f"host system directories are mounted read-write: {', '.join(bad)}", {"Mounts": bad}
    return PASS, "no host system directory is mounted read-write", {"Mounts": len(c.inspect["Mounts"] or ())}


def _process_commands(top: dict[str, Any]) -> list[str]:
    """The command of each process in GET /containers/{id}/top (Podman sends each row as one unsplit string)."""
    titles = [str(t) for t in top.get("Titles") or ()]
    if len(titles) == 1 and len(titles[0].split()) > 1:
        titles = titles[0].split()
        width = len(titles)
        rows = [str(row[0]).split(None, width - 1) for row in top.get("Processes") or () if row]
    else:
        rows = [[str(v) for v in row] for row in top.get("Processes") or ()]
    upper = [t.upper() for t in titles]
    column = next((i for i, t in enumerate(upper) if t in ("CMD", "COMMAND", "ARGS")), len(titles) - 1)
    return [row[column] if len(row) > column >= 0 else " ".join(row) for row in rows]


def _is_sshd(command: str) -> bool:
    words = command.split(None, 1)
    return bool(words) and words[0].rsplit("/", 1)[-1].rstrip(":") == "sshd"


def check_sshd(ctx: Context, c: ContainerView) -> Verdict:
    if not c.running:
        return NOT_APPLICABLE, "the container is not running: no processes to inspect", {"State.Status": c.state}
    if str((c.hc or {}).get("PidMode") or "").startswith("host"):
        return (
            MANUAL,
            "the container shares the host's PID namespace: its process list is the host's",
            {"HostConfig.PidMode": c.hc["PidMode"] if c.hc else None},
        )
    if c.top is None:
        raise MissingData("top")
    found = [cmd for cmd in _process_commands(c.top) if _is_sshd(cmd)]
    if found:
        return FAIL, "sshd runs inside the container", {"top.Processes[CMD]": found[:5]}
    return PASS, "no sshd process runs inside the container", {"top.Processes": len(c.top.get("Processes") or ())}


def bindings(c: ContainerView) -> list[tuple[str, str, str]]:
    """(container port, host ip, host port) published now or configured to be (stopped containers have only these)."""
    live = dig(c.inspect, "NetworkSettings.Ports")
    configured = c.hc.get("PortBindings") if c.hc else None
    if live is None and configured is None and (c.hc is None or "PortBindings" not in c.hc):
        raise MissingData("HostConfig.PortBindings")
    out: list[tuple[str, str, str]] = []
    for source in (live, configured):
        for port, binds in (source or {}).items():
            for b in binds or ():
                key = (port, str(b.get("HostIp") or ""), str(b.get("HostPort") or ""))
                if key not in out:
                    out.append(key)
    return out


def _port_text(binding: tuple[str, str, str]) -> str:
    port, ip, host_port = binding
    return f"{ip or '*'}:{host_port or '?'}->{port}"


def check_privileged_ports(ctx: Context, c: ContainerView) -> Verdict:
    published = bindings(c)
    low = [_port_text(b) for b in published if b[2].isdigit() and int(b[2]) < 1024]
    evidence = {"NetworkSettings.Ports": [_port_text(b) for b in published]}
    if low:
        return FAIL, f"privileged host ports are mapped: {', '.join(low)}", evidence
    return PASS, "no privileged host port (<1024) is mapped", evidence


def check_needed_ports(ctx: Context, c: ContainerView) -> Verdict:
    published = bindings(c)
    texts = [_port_text(b) for b in published]
    evidence: dict[str, Any] = {"NetworkSettings.Ports": texts}
    if not published:
        return PASS, "the container publishes no port", evidence
    allowed = ctx.policy.allowed_host_ports
    if allowed is None:
        return MANUAL, f"confirm these published ports are needed: {', '.join(texts)}", evidence
    evidence["policy.allowed_host_ports"] = [f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in allowed]
    outside = [_port_text(b) for b in published
               if not (b[2].isdigit() and any(lo <= int(b[2]) <= hi for lo, hi in allowed))]  # fmt: skip
    if outside:
        return FAIL, f"ports outside the allowed list are published: {', '.join(outside)}", evidence
    return PASS, "every published port is in the allowed list", evidence


WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]", "*", ":::"})


def check_host_interface(ctx: Context, c: ContainerView) -> Verdict:
    published = bindings(c)
    wild = [_port_text(b) for b in published if b[1] in WILDCARDS]
    evidence = {"NetworkSettings.Ports": [_port_text(b) for b in published]}
    if wild:
        return FAIL, f"ports are bound to all host interfaces: {', '.join(wild)}", evidence
    return PASS, "every published port is bound to a specific interface" if published else "no port is published", evidence


def check_network_mode(ctx: Context, c: ContainerView) -> Verdict:
    mode = c.host("NetworkMode")
    evidence = {"HostConfig.NetworkMode": mode}
    if mode == "host":
        return FAIL, "the container shares the host's network namespace", evidence
    return PASS, f"the container has its own network namespace ({mode or 'default'})", evidence


def namespace_check(key: str, what: str) -> Callable[[Context, ContainerView], Verdict]:
    def check(ctx: Context, c: ContainerView) -> Verdict:
        mode = c.host(key)
        evidence = {f"HostConfig.{key}": mode}
        if str(mode or "").startswith("host"):
            return FAIL, f"the container shares the host's {what} namespace", evidence
        return PASS, f"the container does not share the host's {what} namespace", evidence

    return check


CHECKS: list[Check] = [
    Check("5.1", "Swarm mode only where needed", HOST, POLICY, ("docker.info",), check_swarm_mode,
          "inactive, or policy.swarm_mode_needed", "pass when swarm is inactive; when active, policy decides"),
    Check("5.2", "AppArmor profile applied", CONTAINER, AUTO, CONTAINERS, check_apparmor, "an AppArmor profile",
          "fail when AppArmorProfile is empty or unconfined on a host with AppArmor; not_applicable without it"),
    Check("5.3", "SELinux options set", CONTAINER, AUTO, CONTAINERS, check_selinux, "an SELinux label",
          "on an SELinux host: fail on label=disable or no ProcessLabel; not_applicable without SELinux"),
    Check("5.4", "Capabilities restricted", CONTAINER, AUTO, CONTAINERS, check_capabilities,
          "no capability beyond the default set",
          "fail when HostConfig.CapAdd adds beyond Docker's default set, or the container is privileged"),
    Check("5.5", "No privileged containers", CONTAINER, AUTO, CONTAINERS, check_privileged, False,
          "fail when HostConfig.Privileged is true"),
    Check("5.6", "No sensitive host directories mounted", CONTAINER, AUTO, CONTAINERS, check_sensitive_mounts,
          "no read-write bind of /, /boot, /dev, /etc, /lib, /proc, /sys, /usr",
          "fail when a read-write bind mount's Source is / or /dev, or lies under /boot /etc /lib /proc /sys /usr"),
    Check("5.7", "No sshd in containers", CONTAINER, AUTO, CONTAINERS + ("docker.containers.top",), check_sshd,
          "no sshd process",
          "fail when the process list (top) shows sshd; not_applicable when the container is stopped; error when "
          "the agent could not read its top"),
    Check("5.8", "No privileged host ports", CONTAINER, AUTO, CONTAINERS, check_privileged_ports,
          "host ports >= 1024", "fail when a published or configured host port is below 1024"),
    Check("5.9", "Only needed ports published", CONTAINER, POLICY, CONTAINERS, check_needed_ports,
          "policy.allowed_host_ports", "pass with no published port; otherwise policy.allowed_host_ports decides"),
    Check("5.10", "Host network namespace not shared", CONTAINER, AUTO, CONTAINERS, check_network_mode,
          "NetworkMode not host", "fail when HostConfig.NetworkMode is host"),
    Check("5.14", "Ports bound to a specific interface", CONTAINER, AUTO, CONTAINERS, check_host_interface,
          "a specific HostIp", "fail when a binding's HostIp is empty, 0.0.0.0 or :: (all interfaces)"),
]  # fmt: skip
