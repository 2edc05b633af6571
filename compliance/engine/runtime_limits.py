"""Section 5, part 2: container resource limits, restart and health, privileges, images in use, networks, sockets."""

from __future__ import annotations

from typing import Any

from compliance.engine.context import ContainerView, Context, is_true, normalise_image_ref
from compliance.engine.core import (
    FAIL,
    MANUAL,
    PASS,
    Check,
    DataUnavailable,
    Kind,
    MissingData,
    Scope,
    Verdict,
)
from compliance.engine.daemon import compare_ulimits, daemon_ulimits, ulimits_text
from compliance.engine.policy import Ulimits
from compliance.engine.runtime import mounts, namespace_check, security_opts

HOST, CONTAINER = Scope.HOST, Scope.CONTAINER
AUTO, POLICY, MAN = Kind.AUTOMATED, Kind.POLICY, Kind.MANUAL
CONTAINERS = ("docker.containers",)


def check_memory(ctx: Context, c: ContainerView) -> Verdict:
    memory = c.host("Memory")
    evidence = {"HostConfig.Memory": memory}
    if not memory:
        return FAIL, "the container's memory is not limited", evidence
    return PASS, f"memory is limited to {memory} bytes", evidence


def check_cpu(ctx: Context, c: ContainerView) -> Verdict:
    shares, nano = c.host("CpuShares"), c.hc.get("NanoCpus") if c.hc else None
    quota = c.hc.get("CpuQuota") if c.hc else None
    evidence = {"HostConfig.CpuShares": shares, "HostConfig.NanoCpus": nano, "HostConfig.CpuQuota": quota}
    if shares or nano or quota:
        return PASS, "the container's CPU share or quota is set", evidence
    return FAIL, "neither CPU shares nor a CPU quota is set", evidence


def check_read_only(ctx: Context, c: ContainerView) -> Verdict:
    read_only = c.host("ReadonlyRootfs")
    evidence = {"HostConfig.ReadonlyRootfs": read_only}
    if read_only:
        return PASS, "the root filesystem is read-only", evidence
    return FAIL, "the root filesystem is writable", evidence


def check_restart_policy(ctx: Context, c: ContainerView) -> Verdict:
    policy = c.host("RestartPolicy") or {}
    name, retries = policy.get("Name") or "no", policy.get("MaximumRetryCount") or 0
    evidence = {"HostConfig.RestartPolicy.Name": policy.get("Name"), "HostConfig.RestartPolicy.MaximumRetryCount": retries}
    if name == "no":
        return PASS, "the container is not restarted automatically", evidence
    if name == "on-failure" and 0 < retries <= 5:
        return PASS, f"restart on failure, at most {retries} times", evidence
    if name == "on-failure":
        limit = "without limit" if retries <= 0 else f"up to {retries} times"
        return FAIL, f"restart on failure {limit} (at most 5 expected)", evidence
    return FAIL, f"restart policy {name!r} restarts without limit (on-failure with at most 5 expected)", evidence


def check_devices(ctx: Context, c: ContainerView) -> Verdict:
    devices = c.host("Devices") or []
    texts = [f"{d.get('PathOnHost')}:{d.get('PathInContainer')}" if isinstance(d, dict) else str(d) for d in devices]
    privileged = c.host("Privileged")
    evidence = {"HostConfig.Devices": texts, "HostConfig.Privileged": privileged}
    if privileged:
        return FAIL, "the container is privileged, which exposes every host device", evidence
    if texts:
        return FAIL, f"host devices are exposed: {', '.join(texts)}", evidence
    return PASS, "no host device is exposed", evidence


def container_ulimits(c: ContainerView) -> Ulimits:
    out: Ulimits = {}
    for u in c.host("Ulimits") or ():
        if isinstance(u, dict) and u.get("Name"):
            out[str(u["Name"]).removeprefix("RLIMIT_").lower()] = (int(u.get("Soft", 0)), int(u.get("Hard", 0)))
    return out


def check_ulimits(ctx: Context, c: ContainerView) -> Verdict:
    own = container_ulimits(c)
    evidence: dict[str, Any] = {"HostConfig.Ulimits": ulimits_text(own)}
    expected = ctx.policy.expected_ulimits
    if expected is None:
        return MANUAL, f"confirm the container's ulimits suit it: {ulimits_text(own) if own else 'the daemon defaults'}", evidence
    evidence["policy.expected_ulimits"] = {n: f"{s}:{h}" for n, (s, h) in expected.items()}
    effective = dict(own)
    missing = [name for name in expected if name not in own]
    if missing:
        defaults, seen = daemon_ulimits(ctx)
        evidence.update(seen)
        effective = {**defaults, **own}
    wrong = compare_ulimits(effective, expected)
    if wrong:
        return FAIL, "ulimits differ from the policy: " + "; ".join(wrong), evidence
    return PASS, "the container's ulimits match the policy", evidence


def check_propagation(ctx: Context, c: ContainerView) -> Verdict:
    shared = [
        f"{m.get('Destination')} ({m.get('Propagation')})" for m in mounts(c) if "shared" in str(m.get("Propagation") or "")
    ]
    if shared:
        return FAIL, f"mounts propagate shared: {', '.join(shared)}", {"Mounts[].Propagation": shared}
    return PASS, "no mount propagates shared", {"Mounts[].Propagation": []}


def check_seccomp(ctx: Context, c: ContainerView) -> Verdict:
    opts = security_opts(c)
    privileged = c.host("Privileged")
    evidence = {"HostConfig.SecurityOpt": opts, "HostConfig.Privileged": privileged}
    if any(o.replace(":", "=", 1) == "seccomp=unconfined" for o in opts):
        return FAIL, "the seccomp profile is disabled (seccomp=unconfined)", evidence
    if privileged:
        return FAIL, "the container is privileged, which disables seccomp", evidence
    own = [o for o in opts if o.replace(":", "=", 1).startswith("seccomp=")]
    if own:
        return PASS, "the container has its own seccomp profile", evidence
    # No profile of its own: the daemon's default applies, as docker.info.SecurityOptions reports it.
    if "docker.info" in ctx.errors:
        raise DataUnavailable(f"the agent could not read docker.info: {ctx.errors['docker.info']}",
                              {**evidence, "docker.info.SecurityOptions": None})  # fmt: skip
    options = ctx.security_options()
    seccomp = [o for o in options if "name=seccomp" in o.split(",")]
    evidence["docker.info.SecurityOptions"] = seccomp or options
    if not seccomp:
        return FAIL, "seccomp is not available to the daemon (no name=seccomp in SecurityOptions)", evidence
    if any("profile=unconfined" in o.split(",") for o in seccomp):
        return FAIL, "the daemon's default seccomp profile is unconfined", evidence
    return PASS, "the daemon's default seccomp profile applies", evidence


def manual(message: str) -> Any:
    def check(ctx: Context) -> Verdict:
        return MANUAL, message, {"docker.containers.count": len(ctx.containers or ())}

    return check


def check_cgroup(ctx: Context, c: ContainerView) -> Verdict:
    parent = c.host("CgroupParent")
    evidence: dict[str, Any] = {"HostConfig.CgroupParent": parent}
    expected = ctx.policy.expected_cgroup_parent
    if expected is None:
        if not parent:
            return PASS, "the container runs under the default cgroup parent", evidence
        return MANUAL, f"confirm the cgroup parent {parent!r} is intended", evidence
    evidence["policy.expected_cgroup_parent"] = expected
    effective = parent
    if not parent:
        effective, seen = ctx.daemon().setting("cgroup-parent", "cgroup-parent")
        evidence.update(seen)
    if effective == expected:
        return PASS, f"the container runs under {expected}, as the policy expects", evidence
    return FAIL, f"the container runs under {effective or 'the default cgroup parent'}, the policy expects {expected}", evidence


NNP = frozenset({"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"})


def check_nnp(ctx: Context, c: ContainerView) -> Verdict:
    opts = security_opts(c)
    evidence: dict[str, Any] = {"HostConfig.SecurityOpt": opts}
    if any(o in NNP for o in opts):
        return PASS, "the container may not acquire new privileges", evidence
    if any(o.startswith("no-new-privileges") for o in opts):
        return FAIL, "no-new-privileges is switched off for this container", evidence
    try:
        value, seen = ctx.daemon().setting("no-new-privileges", "no-new-privileges")
    except DataUnavailable as exc:
        if ctx.is_podman:
            return FAIL, "the container can acquire new privileges (Podman shows no no-new-privileges)", evidence
        raise DataUnavailable(f"the container sets no no-new-privileges and the daemon default is unknown: {exc}",
                              evidence) from None  # fmt: skip
    evidence.update(seen)
    if is_true(value):
        return PASS, "the daemon-wide no-new-privileges default applies", evidence
    return FAIL, "the container can acquire new privileges (no no-new-privileges)", evidence


def check_health(ctx: Context, c: ContainerView) -> Verdict:
    status = c.inspect.get("State", {}).get("Health", {}) if isinstance(c.inspect.get("State"), dict) else {}
    status = status.get("Status") if isinstance(status, dict) else None
    test = (c.config or {}).get("Healthcheck", {}) or {}
    test = test.get("Test") if isinstance(test, dict) else None
    evidence = {"State.Health.Status": status, "Config.Healthcheck.Test": test}
    if (test and test[0] != "NONE") or status:
        return PASS, f"a health check is defined (status {status or 'not yet run'})", evidence
    return FAIL, "no health check is defined for the container", evidence


def check_latest_image(ctx: Context, c: ContainerView) -> Verdict:
    if ctx.images is None:
        raise MissingData("docker.images")
    reference, image_id = c.get("Config.Image"), c.get("Image")
    evidence: dict[str, Any] = {"Config.Image": reference, "Image": image_id}
    if not reference or str(reference).startswith("sha256:") or reference == image_id:
        return MANUAL, "the container was created from an image id: confirm it is current", evidence
    tags = ctx.images_by_tag()
    current = tags.get(reference) or tags.get(normalise_image_ref(reference))
    if current is None:
        return MANUAL, f"no image is tagged {reference} on this host now: confirm the container's image is current", evidence
    evidence["docker.images[tag].Id"] = current.id
    if current.id == image_id:
        return PASS, f"the container runs the image now tagged {reference}", evidence
    own = ctx.images_by_id().get(image_id)
    if own is not None and own.created and current.created and own.created > current.created:
        return MANUAL, f"the container's image is newer than the one now tagged {reference}", evidence
    return FAIL, f"the container runs an older image than the one now tagged {reference}", evidence


def check_pids(ctx: Context, c: ContainerView) -> Verdict:
    limit = c.host("PidsLimit")
    evidence = {"HostConfig.PidsLimit": limit}
    if limit is None or limit <= 0:
        return FAIL, "the number of processes is not limited", evidence
    return PASS, f"at most {limit} processes", evidence


def docker0_networks(ctx: Context) -> frozenset[str]:
    names = ctx.cache.get("docker0")
    if names is None:
        found = {"bridge"}
        for net in ctx.docker.get("networks") or ():
            if isinstance(net, dict) and (net.get("Options") or {}).get("com.docker.network.bridge.name") == "docker0":
                found.add(str(net.get("Name")))
        names = ctx.cache["docker0"] = frozenset(found)
    return names


def check_docker0(ctx: Context, c: ContainerView) -> Verdict:
    networks = c.get("NetworkSettings.Networks") or {}
    attached = sorted(n for n in networks if n in docker0_networks(ctx))
    evidence = {"NetworkSettings.Networks": sorted(networks), "HostConfig.NetworkMode": (c.hc or {}).get("NetworkMode")}
    if attached:
        return FAIL, "the container is attached to the default docker0 bridge", evidence
    return PASS, "the container is not on the default docker0 bridge", evidence


ENGINE_SOCKETS = ("docker.sock", "podman.sock", "containerd.sock")


def check_engine_socket(ctx: Context, c: ContainerView) -> Verdict:
    found = [f"{m.get('Source')}:{m.get('Destination')}" for m in mounts(c)
             if any(s in str(m.get("Source") or "") or s in str(m.get("Destination") or "") for s in ENGINE_SOCKETS)]  # fmt: skip
    if found:
        return FAIL, f"the container engine's socket is mounted: {', '.join(found)}", {"Mounts": found}
    return PASS, "no container engine socket is mounted", {"Mounts": []}


CHECKS: list[Check] = [
    Check("5.11", "Memory limited", CONTAINER, AUTO, CONTAINERS, check_memory, "HostConfig.Memory > 0",
          "fail when HostConfig.Memory is 0"),
    Check("5.12", "CPU priority set", CONTAINER, AUTO, CONTAINERS, check_cpu, "CpuShares, NanoCpus or CpuQuota",
          "fail when CpuShares, NanoCpus and CpuQuota are all 0"),
    Check("5.13", "Read-only root filesystem", CONTAINER, AUTO, CONTAINERS, check_read_only, True,
          "fail when HostConfig.ReadonlyRootfs is false"),
    Check("5.15", "Restart on failure at most 5 times", CONTAINER, AUTO, CONTAINERS, check_restart_policy,
          "no, or on-failure with 1-5 retries", "fail on always/unless-stopped, or on-failure with 0 or >5 retries"),
    Check("5.16", "Host PID namespace not shared", CONTAINER, AUTO, CONTAINERS, namespace_check("PidMode", "process"),
          "PidMode not host", "fail when HostConfig.PidMode is host (Podman's private passes)"),
    Check("5.17", "Host IPC namespace not shared", CONTAINER, AUTO, CONTAINERS, namespace_check("IpcMode", "IPC"),
          "IpcMode not host", "fail when HostConfig.IpcMode is host"),
    Check("5.18", "No host devices exposed", CONTAINER, AUTO, CONTAINERS, check_devices, [],
          "fail when HostConfig.Devices is not empty, or when privileged"),
    Check("5.19", "Container ulimits as the site expects", CONTAINER, POLICY, CONTAINERS, check_ulimits,
          "policy.expected_ulimits", "compare HostConfig.Ulimits (else daemon defaults) with policy.expected_ulimits"),
    Check("5.20", "No shared mount propagation", CONTAINER, AUTO, CONTAINERS, check_propagation, "private",
          "fail when a mount's Propagation is shared or rshared"),
    Check("5.21", "Host UTS namespace not shared", CONTAINER, AUTO, CONTAINERS, namespace_check("UTSMode", "UTS"),
          "UTSMode not host", "fail when HostConfig.UTSMode is host"),
    Check("5.22", "Default seccomp profile not disabled", CONTAINER, AUTO, CONTAINERS, check_seccomp,
          "seccomp not unconfined",
          "fail on seccomp=unconfined in SecurityOpt, or when privileged; without a profile of its own, fail when "
          "docker.info.SecurityOptions has no name=seccomp or has profile=unconfined"),
    Check("5.23", "No privileged docker exec", HOST, MAN, (), manual(
        "review exec sessions (audit logs or docker events) for exec --privileged"), "reviewed",
          "manual: needs an exec event or audit stream"),
    Check("5.24", "No docker exec as root", HOST, MAN, (), manual(
        "review exec sessions (audit logs or docker events) for exec --user root"), "reviewed",
          "manual: needs an exec event or audit stream"),
    Check("5.25", "Container cgroup parent confirmed", CONTAINER, POLICY, CONTAINERS, check_cgroup,
          "policy.expected_cgroup_parent, else unset",
          "HostConfig.CgroupParent (else the daemon's) must equal the policy; unset passes without policy"),
    Check("5.26", "No new privileges for containers", CONTAINER, AUTO, CONTAINERS, check_nnp,
          "no-new-privileges", "pass when SecurityOpt or the daemon default sets no-new-privileges"),
    Check("5.27", "Health checked at runtime", CONTAINER, AUTO, CONTAINERS, check_health, "a health check",
          "fail when Config.Healthcheck is absent/NONE and State.Health.Status is empty"),
    Check("5.28", "Container runs the image now tagged", CONTAINER, AUTO, CONTAINERS + ("docker.images",),
          check_latest_image, "the image id of its tag",
          "fail when the image now tagged Config.Image differs from (and is newer than) the container's Image"),
    Check("5.29", "PIDs limit set", CONTAINER, AUTO, CONTAINERS, check_pids, "PidsLimit > 0",
          "fail when HostConfig.PidsLimit is 0, -1 or null"),
    Check("5.30", "Default docker0 bridge not used", CONTAINER, AUTO, CONTAINERS, check_docker0,
          "a user-defined network", "fail when attached to the bridge network (docker0)"),
    Check("5.31", "Host user namespace not shared", CONTAINER, AUTO, CONTAINERS,
          namespace_check("UsernsMode", "user"), "UsernsMode not host", "fail when HostConfig.UsernsMode is host"),
    Check("5.32", "Engine socket not mounted", CONTAINER, AUTO, CONTAINERS, check_engine_socket,
          "no docker.sock mount", "fail when a mount's Source or Destination names docker.sock (or podman/containerd)"),
]  # fmt: skip
