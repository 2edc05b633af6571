import json
import os
from typing import Any

import pytest

from inventory.agent.collect.audit import collect_audit
from inventory.agent.collect.dockerd import collect_dockerd
from inventory.agent.collect.files import collect_files
from inventory.agent.collect.host import collect_host, parse_mountinfo
from inventory.agent.errors import ErrorLog
from inventory.agent.hostfs import HostFS
from inventory.agent.snapshot import collect_snapshot
from inventory.snapshot_format import validate_snapshot
from tests.agent.conftest import FakeAPIError, FakeEngine, FakeHost, FakeNotFound

DOCKERD_ARGV = ["/usr/bin/dockerd", "-H", "fd://", "--config-file=/etc/docker/custom.json", "--tlscert", "/etc/t/c.pem"]


def add_process(host: FakeHost, pid: int, argv: list[str], start: int, uid: int = 0) -> None:
    host.write(f"/proc/{pid}/cmdline", "\0".join(argv) + "\0")
    host.write(f"/proc/{pid}/comm", argv[0].rsplit("/", 1)[-1] + "\n")
    fields = ["S"] + ["0"] * 18 + [str(start)] + ["0"] * 10
    host.write(f"/proc/{pid}/stat", f"{pid} (dockerd) " + " ".join(fields))
    host.write(f"/proc/{pid}/status", f"Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    host.mkdir(f"/proc/{pid}/fd")


def by_path(files: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in files}


def test_it_reads_host_identity_from_the_host_root(fake_host: FakeHost) -> None:
    errors = ErrorLog()

    host = collect_host(HostFS(fake_host.root), errors)

    assert host["hostname"] == "fake01"
    assert host["machine_id"] == "0123456789abcdef0123456789abcdef"
    assert host["os_release"] == {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}
    assert host["groups"] == {"docker": {"gid": 998, "members": ["alice", "bob"]}}
    assert host["lsm"] == {"apparmor_enabled": False, "selinux": "disabled"}
    assert errors.entries == []


def test_it_reports_a_missing_machine_id_and_an_unreadable_group_file(fake_host: FakeHost) -> None:
    (fake_host.root / "etc/machine-id").unlink()
    (fake_host.root / "etc/group").unlink()
    fake_host.mkdir("/etc/group")  # a directory where a file should be: unreadable, even for root
    errors = ErrorLog()

    host = collect_host(HostFS(fake_host.root), errors)

    assert host["machine_id"] == ""
    assert host["groups"] is None
    collectors = {e["collector"]: e["error"] for e in errors.entries}
    assert collectors.keys() == {"host", "groups"}
    assert collectors["host"].startswith("machine_id: FileNotFoundError")
    assert "IsADirectoryError" in collectors["groups"]


def test_it_parses_mountinfo_with_escaped_spaces() -> None:
    line = "36 25 8:1 / /var/lib/docker rw,noatime shared:1 - xfs /dev/mapper/vg-docker rw,attr2\n"
    line += "37 25 8:2 / /mnt/with\\040space ro - ext4 /dev/sdb1 ro\n"

    assert parse_mountinfo(line) == [
        {"mountpoint": "/var/lib/docker", "source": "/dev/mapper/vg-docker", "fstype": "xfs", "options": "rw,noatime"},
        {"mountpoint": "/mnt/with space", "source": "/dev/sdb1", "fstype": "ext4", "options": "ro"},
    ]


def test_it_lists_listening_tcp_sockets_with_their_process(fake_host: FakeHost) -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    fake_host.write(
        "/proc/net/tcp",
        header
        + "   0: 00000000:0951 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n"
        + "   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n",
    )
    fake_host.write(
        "/proc/net/tcp6",
        header + "   0: 00000000000000000000000001000000:0CEA 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 4444 1\n",
    )
    add_process(fake_host, 77, ["/usr/bin/dockerd"], start=5)
    fake_host.symlink("/proc/77/fd/3", "socket:[4242]")

    host = collect_host(HostFS(fake_host.root), ErrorLog())

    assert host["listening_sockets"] == [
        {"proto": "tcp", "addr": "0.0.0.0", "port": 2385, "pid": 77, "comm": "dockerd"},
        {"proto": "tcp6", "addr": "::1", "port": 3306, "pid": None, "comm": None},
    ]


def test_it_finds_the_newest_dockerd_and_its_daemon_json(fake_host: FakeHost) -> None:
    add_process(fake_host, 100, ["/usr/bin/dockerd", "-H", "fd://"], start=10)
    add_process(fake_host, 90, DOCKERD_ARGV, start=20, uid=0)
    add_process(fake_host, 120, ["/usr/bin/containerd"], start=30)
    fake_host.write("/etc/docker/custom.json", json.dumps({"icc": False, "tlskey": "/etc/t/k.pem"}))
    fake_host.write("/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n")
    fake_host.write("/etc/systemd/system/docker.service.d/override.conf", "[Service]\nExecStart=\nExecStart=/x -H fd://\n")
    errors = ErrorLog()

    dockerd = collect_dockerd(HostFS(fake_host.root), errors)

    assert dockerd["pid"] == 90
    assert dockerd["uid"] == 0
    assert dockerd["argv"] == DOCKERD_ARGV
    assert dockerd["config_file"] == "/etc/docker/custom.json"
    assert dockerd["daemon_json"] == {"raw": {"icc": False, "tlskey": "/etc/t/k.pem"}, "parse_error": None}
    assert dockerd["systemd"]["docker.service"] == {
        "fragment_path": "/lib/systemd/system/docker.service",
        "dropins": ["/etc/systemd/system/docker.service.d/override.conf"],
        "exec_start": ["/x -H fd://"],
    }
    assert dockerd["systemd"]["docker.socket"]["fragment_path"] is None
    assert errors.entries == []


def test_it_says_when_there_is_no_dockerd_and_when_daemon_json_is_broken(fake_host: FakeHost) -> None:
    fake_host.write("/etc/docker/daemon.json", '{"icc": false,')
    errors = ErrorLog()

    dockerd = collect_dockerd(HostFS(fake_host.root), errors)

    assert dockerd["pid"] is None and dockerd["argv"] is None
    assert dockerd["daemon_json"]["raw"] is None
    assert dockerd["daemon_json"]["parse_error"].startswith("Expecting property name")
    assert errors.entries == [{"collector": "dockerd", "error": "no dockerd process found in /proc"}]


def test_it_reports_an_unreadable_daemon_json(fake_host: FakeHost) -> None:
    fake_host.mkdir("/etc/docker/daemon.json")
    errors = ErrorLog()

    dockerd = collect_dockerd(HostFS(fake_host.root), errors)

    assert dockerd["daemon_json"] == {"raw": None, "parse_error": None}
    assert [e["collector"] for e in errors.entries] == ["dockerd", "daemon_json"]
    assert errors.entries[1]["error"].startswith("/etc/docker/daemon.json: IsADirectoryError")


def test_it_stats_cis_files_with_modes_owners_and_missing_ones(fake_host: FakeHost) -> None:
    fake_host.write("/etc/docker/daemon.json", "{}", mode=0o644)
    fake_host.mkdir("/etc/docker", mode=0o755)
    fake_host.write("/etc/docker/certs.d/registry:5000/ca.crt", "not read", mode=0o444, uid=1000, gid=998)
    fake_host.write("/etc/default/docker", "", mode=0o600, uid=1000, gid=12345)
    fake_host.write("/lib/systemd/system/docker.socket", "[Socket]\n", mode=0o644)
    fs = HostFS(fake_host.root)
    errors = ErrorLog()
    dockerd = collect_dockerd(fs, errors)

    files = by_path(collect_files(fs, dockerd, {"DockerRootDir": "/srv/docker/root"}, errors))

    assert files["/etc/docker/daemon.json"] == {
        "path": "/etc/docker/daemon.json",
        "exists": True,
        "type": "file",
        "uid": 0,
        "gid": 0,
        "owner": "root",
        "group": "root",
        "mode": "0644",
        "symlink_target": None,
    }
    assert files["/etc/docker"]["type"] == "dir" and files["/etc/docker"]["mode"] == "0755"
    cert = files["/etc/docker/certs.d/registry:5000/ca.crt"]
    assert (cert["mode"], cert["owner"], cert["group"]) == ("0444", "alice", "docker")
    assert files["/etc/docker/certs.d/registry:5000"]["type"] == "dir"
    default = files["/etc/default/docker"]
    assert (default["mode"], default["owner"], default["uid"], default["group"], default["gid"]) == (
        "0600",
        "alice",
        1000,
        None,
        12345,
    )
    assert files["/lib/systemd/system/docker.socket"]["exists"] is True
    assert files["/var/run/docker.sock"]["exists"] is False
    assert files["/usr/bin/runc"] == {**files["/usr/bin/runc"], "exists": False, "mode": None, "owner": None}
    assert files["/srv/docker/root"]["exists"] is False and "/srv/docker" in files
    assert "/etc/sysconfig/docker" in files
    assert errors.entries == [{"collector": "dockerd", "error": "no dockerd process found in /proc"}]


def test_it_resolves_symlinks_inside_the_host_root(fake_host: FakeHost) -> None:
    fake_host.mkdir("/run")
    fake_host.symlink("/var/run", "/run")  # absolute, as on Debian: must not escape to this machine's /run
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(fake_host.root / "run" / "docker.sock"))
    os.chown(fake_host.root / "run" / "docker.sock", 0, 998)
    os.chmod(fake_host.root / "run" / "docker.sock", 0o660)
    fake_host.write("/usr/sbin/runc", "", mode=0o755)
    fake_host.symlink("/usr/bin/runc", "/usr/sbin/runc")
    fs = HostFS(fake_host.root)
    try:
        files = by_path(collect_files(fs, collect_dockerd(fs, ErrorLog()), None, ErrorLog()))
    finally:
        sock.close()

    assert files["/var/run/docker.sock"]["type"] == "socket"
    assert (files["/var/run/docker.sock"]["mode"], files["/var/run/docker.sock"]["group"]) == ("0660", "docker")
    assert files["/usr/bin/runc"]["type"] == "link"
    assert files["/usr/bin/runc"]["symlink_target"] == "/usr/sbin/runc"
    assert files["/usr/sbin/runc"]["mode"] == "0755"


def test_it_reads_audit_rule_files_but_not_comments(fake_host: FakeHost) -> None:
    fake_host.write("/etc/audit/audit.rules", "# generated\n-D\n\n-w /usr/bin/dockerd -k docker\n")
    fake_host.write("/etc/audit/rules.d/docker.rules", "-w /run/containerd -k docker\n")
    fake_host.write("/etc/audit/rules.d/README", "ignored\n")
    errors = ErrorLog()

    audit = collect_audit(HostFS(fake_host.root), errors)

    assert audit == {
        "auditctl_available": False,
        "rules_loaded": None,
        "rules_files": {
            "/etc/audit/audit.rules": ["-D", "-w /usr/bin/dockerd -k docker"],
            "/etc/audit/rules.d/docker.rules": ["-w /run/containerd -k docker"],
        },
    }
    assert errors.entries == []


def test_it_says_loaded_audit_rules_are_unknown_below_a_fake_root(fake_host: FakeHost) -> None:
    fake_host.write("/sbin/auditctl", "", mode=0o755)
    errors = ErrorLog()

    audit = collect_audit(HostFS(fake_host.root), errors)

    assert audit["auditctl_available"] is True and audit["rules_loaded"] is None
    assert [e["collector"] for e in errors.entries] == ["audit"]


def test_it_assembles_a_valid_v1_snapshot_from_a_fake_host_and_engine(fake_host: FakeHost, fake_engine: FakeEngine) -> None:
    fake_engine.containers_ = [
        {"Id": "c1", "Name": "/web", "State": {"Status": "running", "Running": True}, "Config": {"Env": ["PW=x"]}},
        {"Id": "c2", "Name": "/old", "State": {"Status": "exited", "Running": False}, "Config": {"Env": None}},
    ]
    fake_engine.images_ = [{"Id": "sha256:1", "Config": {"Env": ["BUILD_TOKEN=y"]}}]
    fake_engine.fail["plugins"] = RuntimeError("plugins not supported")

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    validate_snapshot(document)
    assert document["schema"] == "plimsoll.snapshot/v1"
    assert document["agent"]["collected_at"].endswith("Z")
    containers = document["docker"]["containers"]
    assert [c["inspect"]["Id"] for c in containers] == ["c1", "c2"]  # "gone" vanished after the list: skipped
    assert containers[0]["top"] == {"Titles": ["PID", "CMD"], "Processes": [["1", "sleep"]]}
    assert containers[1]["top"] is None
    assert containers[0]["inspect"]["Config"]["Env"][0].startswith("PW=<redacted:sha256:")
    assert document["docker"]["images"][0]["inspect"]["Config"]["Env"][0].startswith("BUILD_TOKEN=<redacted:")
    assert document["docker"]["swarm"] is None
    assert document["docker"]["plugins"] is None
    assert {"collector": "docker.plugins", "error": "RuntimeError: plugins not supported"} in document["agent"]["errors"]
    assert fake_engine.calls.count("top") == 1


def test_it_collects_a_swarm_manager_without_join_tokens(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.info_ = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}
    fake_engine.swarm_ = {
        "ID": "swarm1",
        "Spec": {"EncryptionConfig": {"AutoLockManagers": True}},
        "JoinTokens": {"Worker": "SWMTKN-1-worker", "Manager": "SWMTKN-1-manager"},
    }

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    swarm = document["docker"]["swarm"]
    assert swarm["is_manager"] is True
    assert swarm["inspect"] == {"ID": "swarm1", "Spec": {"EncryptionConfig": {"AutoLockManagers": True}}}
    assert swarm["secrets_count"] == 2
    assert "SWMTKN" not in json.dumps(document)
    assert "swarm-secret" not in json.dumps(document)


def test_it_asks_a_swarm_worker_nothing_cluster_wide(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.info_ = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": False}}

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    assert document["docker"]["swarm"] == {
        "is_manager": False,
        "inspect": None,
        "nodes": None,
        "services": None,
        "secrets_count": None,
    }
    assert "inspect_swarm" not in fake_engine.calls


def test_it_lists_each_engine_call_that_failed_under_its_collector(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    for name in ("info", "version", "containers", "images", "networks"):
        fake_engine.fail[name] = ConnectionError(f"{name} broke")

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    errors = {e["collector"]: e["error"] for e in document["agent"]["errors"]}
    assert errors["docker.info"] == "ConnectionError: info broke"
    assert errors["docker.version"] == "ConnectionError: version broke"
    assert errors["docker.containers"] == "ConnectionError: containers broke"
    assert errors["docker.images"] == "ConnectionError: images broke"
    assert errors["docker.networks"] == "ConnectionError: networks broke"
    assert errors["docker.swarm"].startswith("swarm state unknown")
    assert document["docker"]["containers"] is None


def test_it_redacts_secrets_in_image_history(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.images_ = [{"Id": "sha256:1", "Config": {"Env": []}}]
    fake_engine.history_["sha256:1"] = [
        {"Id": "sha256:1", "CreatedBy": "|1 TOKEN=abc /bin/sh -c make"},
        {"Id": "<missing>", "CreatedBy": "/bin/sh -c #(nop)  ENV DB_PASSWORD=s3cr3t"},
        {"Id": "<missing>", "CreatedBy": "ARG PASS=hunter2"},
    ]

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    history = document["docker"]["images"][0]["history"]
    text = json.dumps(history)
    assert "abc" not in text and "s3cr3t" not in text and "hunter2" not in text
    assert history[0]["CreatedBy"].startswith("|1 TOKEN=<redacted:sha256:")
    assert history[0]["CreatedBy"].endswith(" /bin/sh -c make")
    assert history[1]["CreatedBy"].startswith("/bin/sh -c #(nop)  ENV DB_PASSWORD=<redacted:sha256:")


def running(container_id: str) -> dict[str, Any]:
    return {"Id": container_id, "Name": f"/{container_id}", "State": {"Running": True}, "Config": {"Env": []}}


def test_a_failed_top_names_its_container_and_keeps_the_others(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.containers_ = [running("c1"), running("c2")]
    fake_engine.fail["top:c1"] = FakeAPIError(500, 'executable file "ps" not found in $PATH')

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    validate_snapshot(document)
    containers = {c["inspect"]["Id"]: c for c in document["docker"]["containers"]}
    assert containers["c1"]["top"] is None
    assert containers["c2"]["top"] is not None
    errors = [e for e in document["agent"]["errors"] if e["collector"].startswith("docker.")]
    assert errors == [{"collector": "docker.containers.top", "target": "c1", "error": errors[0]["error"]}]
    assert '"ps" not found' in errors[0]["error"]


@pytest.mark.parametrize(
    "exc",
    [
        FakeAPIError(409, "Container c1 is not running"),
        FakeAPIError(500, "container state improper: c1 is not running"),
        FakeNotFound("c1"),
    ],
)
def test_top_of_a_container_that_stopped_meanwhile_is_no_error(
    fake_engine: FakeEngine, fake_host: FakeHost, exc: Exception
) -> None:
    fake_engine.containers_ = [running("c1")]
    fake_engine.fail["top:c1"] = exc

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    assert document["docker"]["containers"][0]["top"] is None
    assert not [e for e in document["agent"]["errors"] if e["collector"].startswith("docker.")]


def test_a_failed_inspect_names_its_container_or_image_and_leaves_it_out(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.containers_ = [running("c1"), running("c2")]
    fake_engine.images_ = [{"Id": "sha256:1"}, {"Id": "sha256:2"}]
    fake_engine.fail["inspect_container:c1"] = FakeAPIError(500, "container broke")
    fake_engine.fail["inspect_image:sha256:2"] = FakeAPIError(500, "image broke")

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    validate_snapshot(document)
    assert [c["inspect"]["Id"] for c in document["docker"]["containers"]] == ["c2"]
    assert [i["inspect"]["Id"] for i in document["docker"]["images"]] == ["sha256:1"]
    errors = {(e["collector"], e.get("target")): e["error"] for e in document["agent"]["errors"]}
    assert {key for key in errors if key[0].startswith("docker.")} == {("docker.containers", "c1"), ("docker.images", "sha256:2")}
    assert "container broke" in errors[("docker.containers", "c1")]
    assert "image broke" in errors[("docker.images", "sha256:2")]


def test_a_failed_list_is_recorded_without_a_target(fake_engine: FakeEngine, fake_host: FakeHost) -> None:
    fake_engine.containers_ = [running("c1")]
    fake_engine.fail["containers"] = ConnectionError("containers broke")
    fake_engine.fail["images"] = ConnectionError("images broke")

    document = collect_snapshot(fake_engine, host_root=str(fake_host.root))

    docker_errors = [e for e in document["agent"]["errors"] if e["collector"].startswith("docker.")]
    assert {e["collector"] for e in docker_errors} == {"docker.containers", "docker.images"}
    assert all("target" not in e for e in docker_errors)
    assert document["docker"]["containers"] is None and document["docker"]["images"] is None


def test_docker_group_members_include_users_whose_primary_group_it_is(fake_host: FakeHost) -> None:
    fake_host.write(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\n"
        "alice:x:1000:1000::/home/alice:/bin/sh\n"
        "ci:x:1001:998::/home/ci:/bin/sh\n"
        "bob:x:1002:998::/home/bob:/bin/sh\n"
        "broken line\n",
    )
    errors = ErrorLog()

    host = collect_host(HostFS(fake_host.root), errors)

    assert host["groups"] == {"docker": {"gid": 998, "members": ["alice", "bob", "ci"]}}
    assert errors.entries == []


def test_an_unreadable_passwd_file_makes_the_docker_group_unknown(fake_host: FakeHost) -> None:
    (fake_host.root / "etc/passwd").unlink()
    errors = ErrorLog()

    host = collect_host(HostFS(fake_host.root), errors)

    assert host["groups"] is None
    assert [e["collector"] for e in errors.entries] == ["groups"]
