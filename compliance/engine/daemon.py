"""Section 2: the Docker daemon's configuration, from its command line and its daemon.json."""

from __future__ import annotations

from typing import Any

from compliance.engine.context import Context, is_false, is_true
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
)
from compliance.engine.policy import Ulimits, parse_ulimit

HOST, AUTO, POLICY = Scope.HOST, Kind.AUTOMATED, Kind.POLICY
DAEMON = ("dockerd",)


def check_rootless(ctx: Context) -> Verdict:
    options = ctx.security_options()
    evidence: dict[str, Any] = {"docker.info.SecurityOptions": options}
    uid = ctx.snapshot.get("dockerd", {}).get("uid") if isinstance(ctx.snapshot.get("dockerd"), dict) else None
    if uid is not None:
        evidence["dockerd.uid"] = uid
    if any("name=rootless" in o for o in options):
        return PASS, "the daemon runs rootless", evidence
    return FAIL, "the daemon runs as root (no name=rootless in SecurityOptions)", evidence


def check_icc(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("icc", "icc")
    if is_false(value):
        return PASS, "inter-container communication on the default bridge is off", evidence
    return FAIL, "containers on the default bridge can talk to each other (icc is not false)", evidence


def check_log_level(ctx: Context) -> Verdict:
    daemon = ctx.daemon()
    value, evidence = daemon.setting("log-level", "log-level")
    debug, debug_evidence = daemon.setting("debug", "debug")
    if is_true(debug):
        evidence.update(debug_evidence)
        return FAIL, "debug mode is on, which logs at level debug", evidence
    if value in (None, "", "info"):
        return PASS, "the log level is info" + (" (the default)" if not value else ""), evidence
    return FAIL, f"the log level is {value!r}, not info", evidence


def check_iptables(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("iptables", "iptables")
    if is_false(value):
        return FAIL, "Docker may not change iptables (iptables=false)", evidence
    return PASS, "Docker manages iptables", evidence


LOOPBACK_CIDRS = frozenset({"127.0.0.0/8", "::1/128"})


def check_insecure_registries(ctx: Context) -> Verdict:
    values, evidence = ctx.daemon().listing("insecure-registry", "insecure-registries")
    configured = [v for v in values if v not in LOOPBACK_CIDRS]
    if configured:
        return FAIL, f"insecure registries are configured: {', '.join(map(str, configured))}", evidence
    return PASS, "no insecure registries are configured", evidence


def check_aufs(ctx: Context) -> Verdict:
    driver = ctx.need_info("Driver")
    evidence = {"docker.info.Driver": driver}
    if driver == "aufs":
        return FAIL, "the aufs storage driver is in use", evidence
    return PASS, f"the storage driver is {driver}", evidence


DOCKER_PORTS = frozenset({2375, 2376})


def is_tcp_host(value: Any) -> bool:
    """Whether a -H/hosts value is a TCP address: `tcp://...`, or any address without a scheme (`:2375`, `0.0.0.0:2376`)."""
    text = str(value).strip()
    return text.startswith("tcp://") or (bool(text) and "://" not in text)


def check_tls(ctx: Context) -> Verdict:
    daemon = ctx.daemon()
    hosts, evidence = daemon.listing("host", "hosts")
    tcp = [str(h).strip() for h in hosts if is_tcp_host(h)]
    pid = daemon.dockerd.get("pid")
    # systemd's docker.socket (pid 1) may hold the TCP socket and hand it to dockerd (`-H fd://`).
    activated = isinstance(daemon.dockerd.get("systemd"), dict) and bool(daemon.dockerd["systemd"].get("docker.socket"))
    sockets = ctx.need_host("listening_sockets")
    if sockets is None:
        raise MissingData("host.listening_sockets")
    listening = [
        f"{s.get('addr')}:{s.get('port')}" for s in sockets
        if isinstance(s, dict) and str(s.get("proto") or "").startswith("tcp")
        and ((pid is not None and s.get("pid") == pid) or (activated and s.get("pid") == 1 and s.get("port") in DOCKER_PORTS))
    ]  # fmt: skip
    if listening:
        evidence["host.listening_sockets[dockerd or docker.socket]"] = listening
    if not tcp and not listening:
        return PASS, "the daemon does not listen on TCP", evidence
    verify, verify_evidence = daemon.setting("tlsverify", "tlsverify")
    evidence.update(verify_evidence)
    if is_true(verify):
        return PASS, "the daemon listens on TCP with TLS client verification (tlsverify)", evidence
    tls, tls_evidence = daemon.setting("tls", "tls")
    evidence.update(tls_evidence)
    where = ", ".join(tcp or listening)
    if is_true(tls):
        return FAIL, f"the daemon listens on {where} with TLS but without client verification", evidence
    return FAIL, f"the daemon listens on {where} without TLS", evidence


def daemon_ulimits(ctx: Context) -> tuple[Ulimits, dict[str, Any]]:
    daemon = ctx.daemon()
    cli = daemon.flag("default-ulimit") or []
    raw = daemon.json.get("default-ulimits") or {}
    limits: Ulimits = {}
    for text in cli:
        try:
            name, value = parse_ulimit(text)
        except ValueError:
            raise DataUnavailable(f"cannot read --default-ulimit {text!r}") from None
        limits[name] = value
    for name, spec in raw.items() if isinstance(raw, dict) else ():
        if isinstance(spec, dict):
            limits[name] = (int(spec.get("Soft", 0)), int(spec.get("Hard", 0)))
    evidence = {"dockerd.argv[--default-ulimit]": cli or None, "dockerd.daemon_json.raw.default-ulimits": raw or None}
    return limits, evidence


def ulimits_text(limits: Ulimits) -> str:
    return ", ".join(f"{n}={s}:{h}" for n, (s, h) in sorted(limits.items())) or "none"


def compare_ulimits(actual: Ulimits, expected: Ulimits) -> list[str]:
    return [f"{name} is {'{}:{}'.format(*actual[name]) if name in actual else 'unset'}, expected {soft}:{hard}"
            for name, (soft, hard) in sorted(expected.items()) if actual.get(name) != (soft, hard)]  # fmt: skip


def check_default_ulimits(ctx: Context) -> Verdict:
    limits, evidence = daemon_ulimits(ctx)
    expected = ctx.policy.expected_ulimits
    if expected is None:
        return MANUAL, f"confirm the daemon's default ulimits suit this site: {ulimits_text(limits)}", evidence
    evidence["policy.expected_ulimits"] = {n: f"{s}:{h}" for n, (s, h) in expected.items()}
    wrong = compare_ulimits(limits, expected)
    if wrong:
        return FAIL, "default ulimits differ from the policy: " + "; ".join(wrong), evidence
    return PASS, "the daemon's default ulimits match the policy", evidence


def check_userns(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("userns-remap", "userns-remap")
    if value:
        return PASS, f"user namespace remapping is on ({value})", evidence
    options = ctx.security_options() if ctx.info is not None else []
    if any("name=userns" in o or "name=rootless" in o for o in options):
        evidence["docker.info.SecurityOptions"] = options
        return PASS, "containers run in a user namespace", evidence
    return FAIL, "user namespace remapping is off", evidence


def check_cgroup_parent(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("cgroup-parent", "cgroup-parent")
    expected = ctx.policy.expected_cgroup_parent
    if expected is not None:
        evidence["policy.expected_cgroup_parent"] = expected
        if value == expected:
            return PASS, f"the default cgroup parent is {value}, as the policy expects", evidence
        return FAIL, f"the default cgroup parent is {value or 'the default'}, the policy expects {expected}", evidence
    if not value:
        return PASS, "the daemon uses the default cgroup parent", evidence
    return MANUAL, f"confirm the default cgroup parent {value!r} is intended", evidence


def check_base_device_size(ctx: Context) -> Verdict:
    values, evidence = ctx.daemon().listing("storage-opt", "storage-opts")
    changed = [str(v) for v in values if "dm.basesize" in str(v)]
    if changed:
        return FAIL, f"the base device size is changed: {', '.join(changed)}", evidence
    return PASS, "the base device size is not changed", evidence


def check_authorization(ctx: Context) -> Verdict:
    values, evidence = ctx.daemon().listing("authorization-plugin", "authorization-plugins")
    if not values and ctx.info is not None:
        values = list(ctx.info.get("Plugins", {}).get("Authorization") or ())
        evidence["docker.info.Plugins.Authorization"] = values or None
    if values:
        return PASS, f"authorization plugins are configured: {', '.join(map(str, values))}", evidence
    return FAIL, "no authorization plugin controls Docker client commands", evidence


# journald and syslog are handed to the host's log forwarder; json-file and local stay on the host.
LOCAL_LOG_DRIVERS = frozenset({"json-file", "local", "none"})


def check_remote_logging(ctx: Context) -> Verdict:
    driver = ctx.need_info("LoggingDriver")
    evidence = {"docker.info.LoggingDriver": driver}
    if not driver:
        raise DataUnavailable("the engine does not report its logging driver (docker.info.LoggingDriver is empty)", evidence)
    if driver in LOCAL_LOG_DRIVERS:
        return FAIL, f"container logs stay on the host (logging driver {driver or 'none'})", evidence
    return PASS, f"container logs go to the {driver} logging driver", evidence


def check_no_new_privileges(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("no-new-privileges", "no-new-privileges")
    if is_true(value):
        return PASS, "no-new-privileges is the daemon-wide default", evidence
    return FAIL, "no-new-privileges is not the daemon-wide default", evidence


def check_live_restore(ctx: Context) -> Verdict:
    if ctx.swarm_active():
        return (
            NOT_APPLICABLE,
            "live restore is incompatible with swarm mode, which is active",
            {"docker.info.Swarm.LocalNodeState": "active"},
        )
    enabled = ctx.info.get("LiveRestoreEnabled") if ctx.info is not None else None
    evidence: dict[str, Any] = {"docker.info.LiveRestoreEnabled": enabled}
    if enabled is None:
        value, evidence = ctx.daemon().setting("live-restore", "live-restore")
        enabled = is_true(value)
    if enabled:
        return PASS, "live restore is enabled", evidence
    return FAIL, "live restore is disabled", evidence


def check_userland_proxy(ctx: Context) -> Verdict:
    value, evidence = ctx.daemon().setting("userland-proxy", "userland-proxy")
    if is_false(value):
        return PASS, "the userland proxy is disabled", evidence
    return FAIL, "the userland proxy is enabled (the default)", evidence


def check_seccomp_default(ctx: Context) -> Verdict:
    options = ctx.security_options()
    seccomp = [o for o in options if "name=seccomp" in o]
    evidence: dict[str, Any] = {"docker.info.SecurityOptions": seccomp or options}
    if not seccomp:
        return FAIL, "seccomp is not available to the daemon", evidence
    if any("profile=unconfined" in o for o in seccomp):
        return FAIL, "the daemon-wide seccomp profile is unconfined", evidence
    profile = seccomp[0].split("profile=", 1)[-1] if "profile=" in seccomp[0] else "default"
    return PASS, f"a daemon-wide seccomp profile is applied ({profile})", evidence


def check_experimental(ctx: Context) -> Verdict:
    version = ctx.docker.get("version")
    value = version.get("Experimental") if isinstance(version, dict) else None
    source = "docker.version.Experimental"
    if value is None and isinstance(version, dict):
        details = next((c.get("Details") for c in version.get("Components") or () if isinstance(c, dict)), None)
        if isinstance(details, dict) and "Experimental" in details:
            value, source = details["Experimental"], "docker.version.Components[0].Details.Experimental"
    if value is None and ctx.info is not None and "ExperimentalBuild" in ctx.info:
        value, source = ctx.info["ExperimentalBuild"], "docker.info.ExperimentalBuild"
    if value is None:
        raise DataUnavailable("the snapshot lacks docker.version.Experimental", {source: None})
    evidence = {source: value}
    if is_true(value):
        return FAIL, "experimental features are enabled", evidence
    return PASS, "experimental features are disabled", evidence


CHECKS: list[Check] = [
    Check("2.1", "Daemon runs rootless", HOST, AUTO, ("docker.info",), check_rootless,
          "name=rootless in SecurityOptions", "pass when docker.info.SecurityOptions has name=rootless"),
    Check("2.2", "No inter-container traffic on the default bridge", HOST, AUTO, DAEMON, check_icc, "icc=false",
          "pass when --icc=false or daemon.json icc is false"),
    Check("2.3", "Log level info", HOST, AUTO, DAEMON, check_log_level, "log-level info",
          "pass when --log-level/-l or daemon.json log-level is info or unset, and debug is off"),
    Check("2.4", "Docker may change iptables", HOST, AUTO, DAEMON, check_iptables, "iptables not false",
          "fail when --iptables=false or daemon.json iptables is false"),
    Check("2.5", "No insecure registries", HOST, AUTO, DAEMON, check_insecure_registries, "none",
          "fail when --insecure-registry or daemon.json insecure-registries names anything beyond loopback"),
    Check("2.6", "No aufs storage driver", HOST, AUTO, ("docker.info",), check_aufs, "not aufs",
          "fail when docker.info.Driver is aufs"),
    Check("2.7", "TLS client verification on a TCP socket", HOST, AUTO, DAEMON + ("sockets",), check_tls,
          "tlsverify when listening on TCP",
          "fail when a TCP host (tcp:// or no scheme, in argv or daemon.json hosts; a TCP socket held by dockerd, or "
          "by pid 1 on 2375/2376 when docker.socket is present) lacks tlsverify"),
    Check("2.8", "Default ulimits as the site expects", HOST, POLICY, DAEMON, check_default_ulimits,
          "policy.expected_ulimits", "compare --default-ulimit/default-ulimits with policy.expected_ulimits"),
    Check("2.9", "User namespace support", HOST, AUTO, DAEMON, check_userns, "userns-remap set",
          "pass when --userns-remap/userns-remap is set, or SecurityOptions has name=userns or name=rootless"),
    Check("2.10", "Default cgroup parent confirmed", HOST, POLICY, DAEMON, check_cgroup_parent,
          "policy.expected_cgroup_parent, else unset",
          "pass when --cgroup-parent/daemon.json cgroup-parent equals the policy (or is unset without policy)"),
    Check("2.11", "Base device size unchanged", HOST, AUTO, DAEMON, check_base_device_size, "no dm.basesize",
          "fail when --storage-opt or daemon.json storage-opts sets dm.basesize"),
    Check("2.12", "Authorization plugin enabled", HOST, AUTO, DAEMON, check_authorization,
          "an authorization plugin", "pass when an authorization plugin is configured or reported by docker.info"),
    Check("2.13", "Centralised, remote logging", HOST, AUTO, ("docker.info",), check_remote_logging,
          "a forwarding log driver", "fail when docker.info.LoggingDriver is json-file, local or none"),
    Check("2.14", "No new privileges by default", HOST, AUTO, DAEMON, check_no_new_privileges,
          "no-new-privileges=true", "pass when --no-new-privileges or daemon.json no-new-privileges is true"),
    Check("2.15", "Live restore enabled", HOST, AUTO, ("docker.info",), check_live_restore, "live-restore=true",
          "pass when docker.info.LiveRestoreEnabled; not_applicable under swarm mode"),
    Check("2.16", "Userland proxy disabled", HOST, AUTO, DAEMON, check_userland_proxy, "userland-proxy=false",
          "pass when --userland-proxy=false or daemon.json userland-proxy is false"),
    Check("2.17", "Daemon-wide seccomp profile", HOST, AUTO, ("docker.info",), check_seccomp_default,
          "a seccomp profile", "fail when SecurityOptions has no seccomp, or its profile is unconfined"),
    Check("2.18", "No experimental features", HOST, AUTO, ("docker.version",), check_experimental,
          "Experimental false", "fail when docker.version.Experimental is true"),
]  # fmt: skip
