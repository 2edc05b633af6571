"""One table of cases per check: a real sample (as a Docker host, see conftest) with one field changed, and the status.

`target` names the container or image judged; None means the host.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from compliance.engine import CHECKS, Kind, Policy, evaluate
from tests.engine.conftest import AUDITED
from tests.engine.mutations import (
    SWARM_MANAGER,
    TLS,
    Mutation,
    add_unused_image,
    agent_error,
    at,
    chain,
    daemon_json,
    dockerd_args,
    drop_audit_rule,
    drop_container,
    drop_unit,
    file_attr,
    history,
    image,
    listening,
    noop,
    on,
    retag_newer_image,
    swarm_port_addr,
    symlink,
    top,
)


class Case(NamedTuple):
    control: str
    target: str | None
    mutate: Mutation
    expected: str
    policy: dict[str, Any] | None = None


IMG = "localhost/local/busybox:1"
H = "pl-hardened"
SERVICE, SOCKET = "/lib/systemd/system/docker.service", "/lib/systemd/system/docker.socket"
CERT = "/etc/docker/certs.d/registry.example.internal:5000/ca.crt"
NOT_ROOT = {"uid": 1000, "owner": "alice"}
SELINUX = at("host.lsm.selinux", "enforcing")
LABEL = on(H, "ProcessLabel", "system_u:system_r:container_t:s0:c12,c34")
ENGINE_SOCKET_MOUNT = {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": True,
              "Propagation": "rprivate", "Mode": ""}  # fmt: skip

AUDIT_CASES = [
    case
    for control, path in zip([f"1.1.{n}" for n in range(3, 19)], AUDITED, strict=True)
    for case in (Case(control, None, noop, "pass"), Case(control, None, drop_audit_rule(path), "fail"))
]

CASES: list[Case] = [
    Case("1.1.1", None, noop, "pass"),
    Case("1.1.1", None, at("docker.info.DockerRootDir", "/srv/docker"), "fail"),
    Case("1.1.2", None, noop, "manual"),
    Case("1.1.2", None, noop, "pass", {"trusted_docker_users": ["alice"]}),
    Case("1.1.2", None, noop, "fail", {"trusted_docker_users": ["alicia"]}),
    *AUDIT_CASES,
    Case("1.2.1", None, noop, "manual"),
    Case("1.2.2", None, noop, "pass"),
    Case("1.2.2", None, at("docker.version.Version", "20.10.24"), "fail"),
    Case("1.2.2", None, at("docker.version.Components.0.Name", "Podman Engine"), "manual"),
    Case("2.1", None, at("docker.info.SecurityOptions", ["name=seccomp,profile=default", "name=rootless"]), "pass"),
    Case("2.1", None, noop, "fail"),
    Case("2.2", None, dockerd_args("--icc=false"), "pass"),
    Case("2.2", None, daemon_json("icc", False), "pass"),
    Case("2.2", None, noop, "fail"),
    Case("2.3", None, noop, "pass"),
    Case("2.3", None, dockerd_args("--log-level", "debug"), "fail"),
    Case("2.3", None, dockerd_args("-l", "warn"), "fail"),
    Case("2.3", None, daemon_json("log-level", "error"), "fail"),
    Case("2.3", None, dockerd_args("-D"), "fail"),
    Case("2.4", None, noop, "pass"),
    Case("2.4", None, dockerd_args("--iptables=false"), "fail"),
    Case("2.5", None, noop, "pass"),
    Case("2.5", None, daemon_json("insecure-registries", ["10.0.0.5:5000"]), "fail"),
    Case("2.5", None, dockerd_args("--insecure-registry", "registry.local:5000"), "fail"),
    Case("2.6", None, noop, "pass"),
    Case("2.6", None, at("docker.info.Driver", "aufs"), "fail"),
    Case("2.7", None, noop, "pass"),
    Case("2.7", None, TLS, "pass"),
    Case("2.7", None, dockerd_args("-H", "tcp://0.0.0.0:2375"), "fail"),
    Case("2.7", None, chain(dockerd_args("-H", "tcp://0.0.0.0:2376"), daemon_json("tls", True)), "fail"),
    # dockerd reads an address without a scheme as TCP.
    Case("2.7", None, dockerd_args("-H", "0.0.0.0:2375"), "fail"),
    Case("2.7", None, dockerd_args("-H", ":2375"), "fail"),
    Case("2.7", None, dockerd_args("-H=127.0.0.1:2375"), "fail"),
    Case("2.7", None, daemon_json("hosts", ["0.0.0.0:2376"]), "fail"),
    Case("2.7", None, chain(daemon_json("hosts", ["0.0.0.0:2376"]), daemon_json("tlsverify", True)), "pass"),
    Case("2.7", None, dockerd_args("-H", "unix:///var/run/docker.sock"), "pass"),
    # docker.socket (systemd, pid 1) holds the TCP socket and hands it to dockerd -H fd://.
    Case("2.7", None, listening(2375, 1, "systemd"), "fail"),
    Case("2.7", None, chain(listening(2376, 1, "systemd"), dockerd_args("--tlsverify")), "pass"),
    Case("2.7", None, chain(listening(2375, 1, "systemd"), drop_unit("docker.socket")), "pass"),
    Case("2.7", None, listening(2376, 812, "dockerd", "10.0.0.5"), "fail"),
    Case("2.7", None, agent_error("sockets"), "error"),
    Case("2.7", None, at("host.listening_sockets", None), "error"),
    Case("2.7", None, lambda s: s["host"].pop("listening_sockets"), "error"),
    Case("2.8", None, noop, "manual"),
    Case("2.8", None, dockerd_args("--default-ulimit", "nofile=1024:2048"), "pass",
         {"expected_ulimits": {"nofile": "1024:2048"}}),
    Case("2.8", None, noop, "fail", {"expected_ulimits": {"nofile": "1024:2048"}}),
    Case("2.9", None, daemon_json("userns-remap", "default"), "pass"),
    Case("2.9", None, noop, "fail"),
    Case("2.10", None, noop, "pass"),
    Case("2.10", None, daemon_json("cgroup-parent", "/batch"), "manual"),
    Case("2.10", None, daemon_json("cgroup-parent", "/batch"), "pass", {"expected_cgroup_parent": "/batch"}),
    Case("2.10", None, daemon_json("cgroup-parent", "/other"), "fail", {"expected_cgroup_parent": "/batch"}),
    Case("2.11", None, noop, "pass"),
    Case("2.11", None, daemon_json("storage-opts", ["dm.basesize=20G"]), "fail"),
    Case("2.12", None, daemon_json("authorization-plugins", ["opa-docker-authz"]), "pass"),
    Case("2.12", None, noop, "fail"),
    Case("2.13", None, noop, "pass"),
    Case("2.13", None, at("docker.info.LoggingDriver", "json-file"), "fail"),
    Case("2.14", None, dockerd_args("--no-new-privileges"), "pass"),
    Case("2.14", None, noop, "fail"),
    Case("2.15", None, noop, "pass"),
    Case("2.15", None, at("docker.info.LiveRestoreEnabled", False), "fail"),
    Case("2.16", None, daemon_json("userland-proxy", False), "pass"),
    Case("2.16", None, noop, "fail"),
    Case("2.17", None, noop, "pass"),
    Case("2.17", None, at("docker.info.SecurityOptions", []), "fail"),
    Case("2.18", None, noop, "pass"),
    Case("2.18", None, at("docker.version.Experimental", True), "fail"),
    Case("3.1", None, noop, "pass"),
    Case("3.1", None, file_attr(SERVICE, **NOT_ROOT), "fail"),
    Case("3.2", None, noop, "pass"),
    Case("3.2", None, file_attr(SERVICE, mode="0622"), "fail"),
    # A symlink is judged by what it points at (a link's own mode is always 0777, its owner is who made it).
    Case("3.2", None, symlink(SERVICE, "../../../usr/lib/systemd/system/docker.service"), "pass"),
    Case("3.2", None, symlink(SERVICE, "/usr/lib/systemd/system/docker.service", mode="0666"), "fail"),
    Case("3.2", None, symlink(SERVICE, "/opt/units/docker.service", stat_target=False), "error"),
    Case("3.3", None, noop, "pass"),
    Case("3.3", None, file_attr(SOCKET, gid=998, group="docker"), "fail"),
    Case("3.4", None, noop, "pass"),
    Case("3.4", None, file_attr(SOCKET, mode="0664"), "fail"),
    Case("3.5", None, noop, "pass"),
    Case("3.5", None, file_attr("/etc/docker", **NOT_ROOT), "fail"),
    Case("3.6", None, noop, "pass"),
    Case("3.6", None, file_attr("/etc/docker", mode="0757"), "fail"),
    Case("3.5", None, symlink("/etc/docker", "../srv/docker-etc"), "pass"),
    Case("3.5", None, symlink("/etc/docker", "../srv/docker-etc", **NOT_ROOT), "fail"),
    Case("3.7", None, noop, "pass"),
    Case("3.7", None, file_attr(CERT, **NOT_ROOT), "fail"),
    Case("3.8", None, noop, "pass"),
    Case("3.8", None, file_attr(CERT, mode="0644"), "fail"),
    Case("3.9", None, noop, "not_applicable"),
    Case("3.9", None, TLS, "pass"),
    Case("3.9", None, chain(TLS, file_attr("/etc/docker/tls/ca.pem", **NOT_ROOT)), "fail"),
    Case("3.10", None, TLS, "pass"),
    Case("3.10", None, chain(TLS, file_attr("/etc/docker/tls/ca.pem", mode="0644")), "fail"),
    Case("3.11", None, TLS, "pass"),
    Case("3.11", None, chain(TLS, file_attr("/etc/docker/tls/server-cert.pem", **NOT_ROOT)), "fail"),
    Case("3.12", None, TLS, "pass"),
    Case("3.12", None, chain(TLS, file_attr("/etc/docker/tls/server-cert.pem", mode="0446")), "fail"),
    Case("3.13", None, TLS, "pass"),
    Case("3.13", None, chain(TLS, file_attr("/etc/docker/tls/server-key.pem", **NOT_ROOT)), "fail"),
    Case("3.14", None, TLS, "pass"),
    Case("3.14", None, chain(TLS, file_attr("/etc/docker/tls/server-key.pem", mode="0440")), "fail"),
    Case("3.15", None, noop, "pass"),
    Case("3.15", None, file_attr("/var/run/docker.sock", gid=0, group="root"), "fail"),
    Case("3.16", None, noop, "pass"),
    Case("3.16", None, file_attr("/var/run/docker.sock", mode="0666"), "fail"),
    Case("3.17", None, noop, "pass"),
    Case("3.17", None, file_attr("/etc/docker/daemon.json", **NOT_ROOT), "fail"),
    Case("3.18", None, noop, "pass"),
    Case("3.18", None, file_attr("/etc/docker/daemon.json", mode="0664"), "fail"),
    Case("3.17", None, symlink("/etc/docker/daemon.json", "/srv/config/daemon.json"), "pass"),
    Case("3.17", None, symlink("/etc/docker/daemon.json", "/srv/config/daemon.json", **NOT_ROOT), "fail"),
    Case("3.17", None, symlink("/etc/docker/daemon.json", "daemon.real.json", stat_target=False), "error"),
    Case("3.18", None, symlink("/etc/docker/daemon.json", "daemon.real.json"), "pass"),
    Case("3.18", None, symlink("/etc/docker/daemon.json", "daemon.real.json", mode="0664"), "fail"),
    Case("3.8", None, symlink(CERT, "/srv/pki/ca.crt"), "pass"),
    Case("3.8", None, symlink(CERT, "/srv/pki/ca.crt", mode="0644"), "fail"),
    Case("3.19", None, noop, "pass"),
    Case("3.19", None, file_attr("/etc/default/docker", **NOT_ROOT), "fail"),
    Case("3.20", None, noop, "pass"),
    Case("3.20", None, file_attr("/etc/default/docker", mode="0646"), "fail"),
    Case("3.21", None, noop, "pass"),
    Case("3.21", None, file_attr("/etc/sysconfig/docker", mode="0700"), "fail"),
    Case("3.22", None, noop, "pass"),
    Case("3.22", None, file_attr("/etc/sysconfig/docker", gid=4, group="adm"), "fail"),
    Case("3.23", None, noop, "pass"),
    Case("3.23", None, file_attr("/run/containerd/containerd.sock", gid=998, group="docker"), "fail"),
    Case("3.24", None, noop, "pass"),
    Case("3.24", None, file_attr("/run/containerd/containerd.sock", mode="0666"), "fail"),
    Case("4.1", H, noop, "pass"),
    Case("4.1", H, on(H, "Config.User", "root"), "fail"),
    Case("4.1", H, on(H, "Config.User", "0:0"), "fail"),
    Case("4.1", "pl-web", noop, "fail"),
    Case("4.2", IMG, noop, "manual"),
    Case("4.2", IMG, noop, "pass", {"trusted_registries": ["localhost"]}),
    Case("4.2", IMG, noop, "fail", {"trusted_registries": ["registry.example.com", "docker.io/library"]}),
    *[Case(c, None, noop, "manual") for c in ("4.3", "4.4", "4.8", "4.11", "4.12")],
    Case("4.5", None, noop, "pass"),
    Case("4.5", None, at("host.env.DOCKER_CONTENT_TRUST", None), "fail"),
    Case("4.6", IMG, image("Config.Healthcheck", {"Test": ["CMD", "/bin/true"]}), "pass"),
    Case("4.6", IMG, noop, "fail"),
    Case("4.7", IMG, noop, "pass"),
    Case("4.7", IMG, history("RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"), "pass"),
    Case("4.7", IMG, history("RUN /bin/sh -c apt-get update # buildkit"), "fail"),
    Case("4.7", IMG, history("/bin/sh -c apk update"), "fail"),
    Case("4.9", IMG, noop, "pass"),
    Case("4.9", IMG, history("COPY app /app # buildkit"), "pass"),
    Case("4.9", IMG, history("ADD https://example.com/app.tar.gz /app # buildkit"), "fail"),
    Case("4.10", IMG, noop, "manual"),
    Case("4.10", IMG, history("/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2"), "fail"),
    Case("4.10", IMG, history("|1 GITHUB_TOKEN=abc123 /bin/sh -c make"), "fail"),
    Case("4.10", IMG, history("ENV PASSWORD_FILE=/run/secrets/db # buildkit"), "manual"),
    Case("4.10", IMG, image("Config.Env", ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI"]), "fail"),
    Case("5.1", None, noop, "pass"),
    Case("5.1", None, at("docker.info.Swarm.LocalNodeState", "active"), "manual"),
    Case("5.1", None, at("docker.info.Swarm.LocalNodeState", "active"), "fail", {"swarm_mode_needed": False}),
    Case("5.2", H, noop, "not_applicable"),
    Case("5.2", H, on(H, "AppArmorProfile", "docker-default"), "pass"),
    Case("5.2", H, at("host.lsm.apparmor_enabled", True), "fail"),
    Case("5.3", H, noop, "not_applicable"),
    Case("5.3", H, chain(SELINUX, LABEL), "pass"),
    Case("5.3", H, SELINUX, "fail"),
    Case("5.3", H, chain(SELINUX, LABEL, on(H, "HostConfig.SecurityOpt", ["label=disable"])), "fail"),
    Case("5.4", H, noop, "pass"),
    Case("5.4", H, on(H, "HostConfig.CapAdd", ["SYS_ADMIN"]), "fail"),
    Case("5.4", "pl-web", noop, "fail"),
    Case("5.4", H, on(H, "HostConfig.Privileged", True), "fail"),
    Case("5.5", H, noop, "pass"),
    Case("5.5", H, on(H, "HostConfig.Privileged", True), "fail"),
    Case("5.5", "pl-privileged", noop, "fail"),
    Case("5.6", "pl-hostnet", noop, "pass"),
    Case("5.6", "pl-hostnet", on("pl-hostnet", "Mounts.0.RW", True), "fail"),
    Case("5.6", "pl-restart", noop, "fail"),
    Case("5.7", H, noop, "pass"),
    Case("5.7", H, top(H, "/usr/sbin/sshd -D"), "fail"),
    Case("5.7", "pl-exited", noop, "not_applicable"),
    # A targeted top error makes only that container's 5.7 `error`; a whole-collector one makes every 5.7 `error`.
    Case("5.7", H, agent_error("docker.containers.top", of=H), "error"),
    Case("5.7", "pl-web", agent_error("docker.containers.top", of=H), "pass"),
    Case("5.7", "pl-web", chain(top("pl-web", "sshd: /usr/sbin/sshd -D"), agent_error("docker.containers.top", of=H)),
         "fail"),
    Case("5.5", H, agent_error("docker.containers.top", of=H), "pass"),
    Case("5.7", None, agent_error("docker.containers.top"), "error"),
    # A container the agent could not read is absent; the others are judged as usual.
    Case("5.5", H, drop_container("pl-web"), "pass"),
    Case("5.5", "pl-privileged", drop_container("pl-web"), "fail"),
    Case("5.5", H, agent_error("docker.containers", of=H), "error"),
    Case("4.6", IMG, agent_error("docker.images", target="sha256:" + "ef" * 32), "fail"),
    Case("4.9", IMG, agent_error("docker.images", target="sha256:" + "ef" * 32), "pass"),
    Case("5.8", "pl-web", noop, "pass"),
    Case("5.8", "pl-web", on("pl-web", "HostConfig.PortBindings.8080/tcp.0.HostPort", "80"), "fail"),
    Case("5.9", H, noop, "pass"),
    Case("5.9", "pl-web", noop, "manual"),
    Case("5.9", "pl-web", noop, "pass", {"allowed_host_ports": ["1024-65535"]}),
    Case("5.9", "pl-web", noop, "fail", {"allowed_host_ports": [443, "9000-9100"]}),
    Case("5.10", H, noop, "pass"),
    Case("5.10", "pl-hostnet", noop, "fail"),
    Case("5.11", H, noop, "pass"),
    Case("5.11", H, on(H, "HostConfig.Memory", 0), "fail"),
    Case("5.12", H, on(H, "HostConfig.CpuShares", 512), "pass"),
    Case("5.12", H, noop, "fail"),
    Case("5.13", H, noop, "pass"),
    Case("5.13", H, on(H, "HostConfig.ReadonlyRootfs", False), "fail"),
    Case("5.14", "pl-web", noop, "pass"),
    Case("5.14", "pl-web", on("pl-web", "HostConfig.PortBindings.8080/tcp.0.HostIp", ""), "fail"),
    Case("5.14", "pl-web", on("pl-web", "NetworkSettings.Ports.8080/tcp.0.HostIp", "::"), "fail"),
    Case("5.15", "pl-restart", noop, "pass"),
    Case("5.15", "pl-restart", on("pl-restart", "HostConfig.RestartPolicy.MaximumRetryCount", 10), "fail"),
    Case("5.15", "pl-restart", on("pl-restart", "HostConfig.RestartPolicy.MaximumRetryCount", 0), "fail"),
    Case("5.15", H, on(H, "HostConfig.RestartPolicy.Name", "always"), "fail"),
    Case("5.16", H, noop, "pass"),
    Case("5.16", "pl-hostpid", noop, "fail"),
    Case("5.17", H, noop, "pass"),
    Case("5.17", H, on(H, "HostConfig.IpcMode", "host"), "fail"),
    Case("5.18", H, noop, "pass"),
    Case("5.18", "pl-privileged", noop, "fail"),  # Devices is [] but --privileged exposes every host device
    Case("5.18", H, on(H, "HostConfig.Privileged", True), "fail"),
    Case("5.18", H, on(H, "HostConfig.Devices", [{"PathOnHost": "/dev/kvm", "PathInContainer": "/dev/kvm",
                                                  "CgroupPermissions": "rwm"}]), "fail"),  # fmt: skip
    Case("5.19", H, noop, "manual"),
    Case("5.19", H, noop, "pass", {"expected_ulimits": {"nofile": "1024:1024"}}),
    Case("5.19", H, noop, "fail", {"expected_ulimits": {"nofile": "4096:4096"}}),
    Case("5.20", "pl-restart", noop, "pass"),
    Case("5.20", "pl-restart", on("pl-restart", "Mounts.0.Propagation", "rshared"), "fail"),
    Case("5.21", H, noop, "pass"),
    Case("5.21", H, on(H, "HostConfig.UTSMode", "host"), "fail"),
    Case("5.22", H, noop, "pass"),
    Case("5.22", "pl-hostpid", noop, "fail"),
    Case("5.22", "pl-privileged", noop, "fail"),
    # Without a profile of its own, the daemon's default decides (docker.info.SecurityOptions).
    Case("5.22", H, at("docker.info.SecurityOptions", ["name=seccomp,profile=unconfined"]), "fail"),
    Case("5.22", H, at("docker.info.SecurityOptions", ["name=apparmor"]), "fail"),
    Case("5.22", H, at("docker.info.SecurityOptions", ["name=seccomp,profile=builtin", "name=cgroupns"]), "pass"),
    Case("5.22", H, chain(at("docker.info.SecurityOptions", ["name=seccomp,profile=unconfined"]),
                          on(H, "HostConfig.SecurityOpt", ["no-new-privileges", "seccomp=/etc/docker/strict.json"])),
         "pass"),  # fmt: skip
    Case("5.22", H, at("docker.info", None), "error"),
    Case("5.22", H, agent_error("docker.info"), "error"),
    Case("5.22", "pl-hostpid", at("docker.info", None), "fail"),
    Case("5.23", None, noop, "manual"),
    Case("5.24", None, noop, "manual"),
    Case("5.25", H, noop, "pass"),
    Case("5.25", H, on(H, "HostConfig.CgroupParent", "/batch"), "manual"),
    Case("5.25", H, on(H, "HostConfig.CgroupParent", "/batch"), "pass", {"expected_cgroup_parent": "/batch"}),
    Case("5.25", H, noop, "fail", {"expected_cgroup_parent": "/batch"}),
    Case("5.26", H, noop, "pass"),
    Case("5.26", "pl-web", noop, "fail"),
    Case("5.26", "pl-web", dockerd_args("--no-new-privileges"), "pass"),
    Case("5.27", "pl-health", noop, "pass"),
    Case("5.27", H, noop, "fail"),
    Case("5.28", H, noop, "pass"),
    Case("5.28", H, retag_newer_image, "fail"),
    Case("5.29", H, noop, "pass"),
    Case("5.29", H, on(H, "HostConfig.PidsLimit", 0), "fail"),
    Case("5.29", H, on(H, "HostConfig.PidsLimit", -1), "fail"),
    Case("5.30", H, noop, "pass"),
    Case("5.30", H, on(H, "NetworkSettings.Networks", {"bridge": {"NetworkID": "bridge"}}), "fail"),
    Case("5.31", H, noop, "pass"),
    Case("5.31", H, on(H, "HostConfig.UsernsMode", "host"), "fail"),
    Case("5.32", H, noop, "pass"),
    Case("5.32", H, on(H, "Mounts", [ENGINE_SOCKET_MOUNT]), "fail"),
    Case("6.1", None, noop, "manual"),
    Case("6.1", None, noop, "pass", {"max_unused_images": 0}),
    Case("6.1", None, add_unused_image, "fail", {"max_unused_images": 0}),
    Case("6.2", None, noop, "manual"),
    Case("6.2", None, noop, "pass", {"max_stopped_containers": 5}),
    Case("6.2", None, noop, "fail", {"max_stopped_containers": 2}),
    Case("7.1", None, SWARM_MANAGER, "pass"),
    Case("7.1", None, chain(SWARM_MANAGER, at("docker.info.Swarm.Managers", 2)), "fail"),
    Case("7.1", None, chain(SWARM_MANAGER, at("docker.swarm.is_manager", False)), "not_applicable"),
    Case("7.2", None, SWARM_MANAGER, "pass"),
    Case("7.2", None, chain(SWARM_MANAGER, swarm_port_addr("::")), "fail"),
    Case("7.2", None, chain(SWARM_MANAGER, swarm_port_addr("0.0.0.0")), "fail"),
    Case("7.3", None, SWARM_MANAGER, "pass"),
    Case("7.3", None, chain(SWARM_MANAGER, at("docker.networks.1.Options", {})), "fail"),
    Case("7.4", None, SWARM_MANAGER, "pass"),
    Case("7.4", None, chain(SWARM_MANAGER, at("docker.swarm.secrets_count", 0)), "manual"),
    Case("7.5", None, SWARM_MANAGER, "pass"),
    Case("7.5", None, chain(SWARM_MANAGER, at("docker.swarm.inspect.Spec.EncryptionConfig.AutoLockManagers", False)),
         "fail"),
    Case("7.6", None, SWARM_MANAGER, "manual"),
    Case("7.7", None, SWARM_MANAGER, "manual"),
    Case("7.7", None, SWARM_MANAGER, "pass", {"max_node_cert_expiry_days": 90}),
    Case("7.7", None, SWARM_MANAGER, "fail", {"max_node_cert_expiry_days": 30}),
    Case("7.8", None, SWARM_MANAGER, "manual"),
    Case("7.9", None, SWARM_MANAGER, "manual"),
]  # fmt: skip


def _id(case: Case) -> str:
    return f"{case.control}-{case.target or 'host'}-{case.expected}"


def judge(snapshot: dict[str, Any], case: Case) -> list[str]:
    results = evaluate(snapshot, Policy.from_dict(case.policy))
    return [str(r.status) for r in results
            if r.control == case.control and (case.target is None or r.target_name == case.target)]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_it_judges_one_changed_field(docker_host: dict[str, Any], case: Case) -> None:
    case.mutate(docker_host)

    assert judge(docker_host, case) == [case.expected]


def test_it_has_a_pass_and_a_fail_case_for_every_judged_check() -> None:
    # 4.10 and 7.4 never pass or fail on absence: no secret found, or no swarm secret, leaves a person to judge.
    judged = [c.control for c in CHECKS if c.kind is not Kind.MANUAL and c.control not in ("4.10", "7.4")]
    seen = {(c.control, c.expected) for c in CASES}

    assert [c for c in judged if (c, "pass") not in seen or (c, "fail") not in seen] == []
    assert {c.control for c in CHECKS} <= {c.control for c in CASES}
