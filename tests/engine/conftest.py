"""Engine fixtures: real Podman snapshots from tests/samples, and the same host as a stock Docker Engine would show it.

The samples come from Podman, which has no dockerd, unit files or audit rules. `docker_host` adds those host-side
facts as a stock Docker Engine 27 install on Debian lays them out (dockerd from the docker-ce unit file, root-owned
files with the packaged modes, a docker group, the CIS audit rules) so that sections 1-3 have a compliant baseline;
every container and image stays exactly as Podman reported it. Each test case then changes one field.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

AUDITED = [
    "/usr/bin/dockerd", "/run/containerd", "/var/lib/docker", "/etc/docker", "/lib/systemd/system/docker.service",
    "/run/containerd/containerd.sock", "/lib/systemd/system/docker.socket", "/etc/default/docker",
    "/etc/docker/daemon.json", "/etc/containerd/config.toml", "/etc/sysconfig/docker", "/usr/bin/containerd",
    "/usr/bin/containerd-shim", "/usr/bin/containerd-shim-runc-v1", "/usr/bin/containerd-shim-runc-v2", "/usr/bin/runc",
]  # fmt: skip

# path -> (type, mode, owner, group)
DOCKER_FILES = {
    "/lib/systemd/system/docker.service": ("file", "0644", "root", "root"),
    "/lib/systemd/system/docker.socket": ("file", "0644", "root", "root"),
    "/etc/docker": ("dir", "0755", "root", "root"),
    "/etc/docker/daemon.json": ("file", "0644", "root", "root"),
    "/etc/docker/certs.d": ("dir", "0755", "root", "root"),
    "/etc/docker/certs.d/registry.example.internal:5000/ca.crt": ("file", "0444", "root", "root"),
    "/var/run/docker.sock": ("socket", "0660", "root", "docker"),
    "/run/containerd/containerd.sock": ("socket", "0660", "root", "root"),
    "/etc/default/docker": ("file", "0644", "root", "root"),
    "/etc/sysconfig/docker": ("file", "0644", "root", "root"),
    "/etc/docker/tls/ca.pem": ("file", "0444", "root", "root"),
    "/etc/docker/tls/server-cert.pem": ("file", "0444", "root", "root"),
    "/etc/docker/tls/server-key.pem": ("file", "0400", "root", "root"),
}
GIDS = {"root": 0, "docker": 998}


@cache
def _sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def load_sample(name: str) -> Any:
    """A fresh copy of a sample (tests mutate it)."""
    return json.loads(_sample(name))


@pytest.fixture
def web01() -> dict[str, Any]:
    return load_sample("snapshot_web01.json")


@pytest.fixture
def podman_inspect() -> list[dict[str, Any]]:
    return load_sample("podman_inspect_containers.json")


def make_docker_host(snapshot: dict[str, Any]) -> dict[str, Any]:
    s = copy.deepcopy(snapshot)
    s["agent"]["errors"] = [e for e in s["agent"]["errors"] if e["collector"] != "dockerd"]
    s["dockerd"] = {
        "pid": 812,
        "uid": 0,
        "exe": "/usr/bin/dockerd",
        "argv": ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"],
        "config_file": "/etc/docker/daemon.json",
        "daemon_json": {"raw": {}, "parse_error": None},
        "systemd": {
            "docker.service": {"fragment_path": "/lib/systemd/system/docker.service", "dropins": []},
            "docker.socket": {"fragment_path": "/lib/systemd/system/docker.socket", "dropins": []},
            "containerd.service": {"fragment_path": "/lib/systemd/system/containerd.service", "dropins": []},
        },
    }
    files = {f["path"]: f for f in s["files"]}
    for path in AUDITED:
        files.setdefault(path, {"path": path})
        files[path].update(exists=True, type="file", uid=0, gid=0, owner="root", group="root", mode="0755")
    files["/run/containerd"].update(type="dir", mode="0711")
    files["/var/lib/docker"].update(type="dir", mode="0710")
    for path, (kind, mode, owner, group) in DOCKER_FILES.items():
        files[path] = {"path": path, "exists": True, "type": kind, "mode": mode, "uid": 0, "gid": GIDS[group],
                       "owner": owner, "group": group, "symlink_target": None}  # fmt: skip
    s["files"] = list(files.values())
    s["audit"] = {
        "auditctl_available": True,
        "rules_loaded": [f"-w {p} -p rwxa -k docker" for p in AUDITED],
        "rules_files": {"/etc/audit/rules.d/docker.rules": [f"-w {p} -p rwxa -k docker" for p in AUDITED]},
    }
    s["host"]["groups"]["docker"] = {"gid": 998, "members": ["alice"]}
    s["host"]["mounts"].append(
        {"mountpoint": "/var/lib/docker", "source": "/dev/mapper/vg-docker", "fstype": "xfs", "options": "rw"}
    )
    s["host"]["env"]["DOCKER_CONTENT_TRUST"] = "1"
    info = s["docker"]["info"]
    info.update(DockerRootDir="/var/lib/docker", LoggingDriver="syslog", LiveRestoreEnabled=True)
    info.pop("BuildahVersion", None)
    s["docker"]["version"] = {
        "Version": "28.5.2", "ApiVersion": "1.51", "Experimental": False, "Os": "linux",
        "Components": [{"Name": "Engine", "Version": "28.5.2", "Details": {"Experimental": "false"}}],
    }  # fmt: skip
    return s


@pytest.fixture
def docker_host(web01: dict[str, Any]) -> dict[str, Any]:
    return make_docker_host(web01)
