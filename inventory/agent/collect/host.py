"""host: identity, mounts (1.1.1), the docker group (1.1.2), listening sockets (2.7, 7.2), env (4.5), LSMs."""

from __future__ import annotations

import os
import socket
from typing import Any

from inventory.agent.errors import ErrorLog
from inventory.agent.hostfs import HostFS

OS_RELEASE_KEYS = ("ID", "VERSION_ID", "PRETTY_NAME")
TCP_LISTEN = "0A"


def collect_host(fs: HostFS, errors: ErrorLog, machine_id: str | None = None) -> dict[str, Any]:
    """The host part of a snapshot; `machine_id` (from --machine-id) replaces the one the host's files hold."""
    host: dict[str, Any] = {
        "hostname": "",
        "machine_id": "",
        "os_release": None,
        "kernel": None,
        "arch": None,
        "mounts": None,
        "groups": None,
        "listening_sockets": None,
        "env": None,
        "lsm": None,
    }
    with errors.guard("host", "hostname"):
        host["hostname"] = read_hostname(fs)
    if machine_id is not None:
        host["machine_id"] = machine_id
    else:
        with errors.guard("host", "machine_id"):
            host["machine_id"] = read_machine_id(fs)
    with errors.guard("host", "os_release"):
        host["os_release"] = read_os_release(fs)
    with errors.guard("host", "uname"):
        host["kernel"], host["arch"] = read_kernel(fs)
    with errors.guard("mounts"):
        host["mounts"] = read_mounts(fs)
    with errors.guard("groups"):
        host["groups"] = {"docker": read_group(fs, "docker")}
    with errors.guard("sockets"):
        host["listening_sockets"] = read_listening_sockets(fs)
    host["env"] = {"DOCKER_CONTENT_TRUST": read_content_trust(fs)}
    with errors.guard("lsm"):
        host["lsm"] = read_lsm(fs)
    return host


def read_hostname(fs: HostFS) -> str:
    if fs.is_live:
        return socket.gethostname()
    for path in ("/etc/hostname", "/proc/sys/kernel/hostname"):
        if fs.is_file(path):
            name = fs.read_text(path).strip()
            if name:
                return name
    raise FileNotFoundError("neither /etc/hostname nor /proc/sys/kernel/hostname names the host")


def read_machine_id(fs: HostFS) -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        if fs.is_file(path):
            machine_id = fs.read_text(path).strip()
            if machine_id:
                return machine_id
    raise FileNotFoundError("no machine id in /etc/machine-id or /var/lib/dbus/machine-id")


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def read_os_release(fs: HostFS) -> dict[str, str | None]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if fs.exists(path):
            values = parse_os_release(fs.read_text(path))
            return {key: values.get(key) for key in OS_RELEASE_KEYS}
    raise FileNotFoundError("no /etc/os-release or /usr/lib/os-release")


def read_kernel(fs: HostFS) -> tuple[str | None, str | None]:
    # The kernel is shared with any container the agent runs in, so uname is right even with a host root.
    uname = os.uname()
    kernel = uname.release
    if not fs.is_live and fs.is_file("/proc/sys/kernel/osrelease"):
        kernel = fs.read_text("/proc/sys/kernel/osrelease").strip() or kernel
    return kernel, uname.machine


def unescape_mount_field(value: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo octal."""
    out = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 3 < len(value) and value[i + 1 : i + 4].isdigit():
            out.append(chr(int(value[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[dict[str, str]]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 7:
            continue
        sep = fields.index("-")
        if len(fields) < sep + 3:
            continue
        mounts.append(
            {
                "mountpoint": unescape_mount_field(fields[4]),
                "source": unescape_mount_field(fields[sep + 2]),
                "fstype": fields[sep + 1],
                "options": fields[5],
            }
        )
    return mounts


def read_mounts(fs: HostFS) -> list[dict[str, str]]:
    # PID 1's view is the host's mount namespace when the agent shares the host's PID namespace.
    last_error: OSError | None = None
    for path in ("/proc/1/mountinfo", "/proc/self/mountinfo"):
        try:
            return parse_mountinfo(fs.read_text(path))
        except FileNotFoundError as exc:
            last_error = exc
    raise last_error or FileNotFoundError("no mountinfo")


def parse_group_file(text: str) -> dict[str, tuple[int, list[str]]]:
    groups: dict[str, tuple[int, list[str]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < 4 or not fields[2].isdigit():
            continue
        members = [m for m in fields[3].split(",") if m]
        groups.setdefault(fields[0], (int(fields[2]), members))
    return groups


def parse_passwd_file(text: str) -> dict[int, str]:
    users: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            users.setdefault(int(fields[2]), fields[0])
    return users


def parse_passwd_primary_gids(text: str) -> list[tuple[str, int]]:
    """(user, primary gid) for each well-formed /etc/passwd line."""
    users = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] and fields[3].isdigit():
            users.append((fields[0], int(fields[3])))
    return users


def read_group(fs: HostFS, name: str) -> dict[str, Any] | None:
    """The group's gid and members, or None if absent.

    Members are those /etc/group lists plus the users whose primary group it is in /etc/passwd (who are just as
    much in the group, though `getent group` does not show them), sorted, each once.
    """
    groups = parse_group_file(fs.read_text("/etc/group"))
    if name not in groups:
        return None
    gid, members = groups[name]
    primary = [user for user, user_gid in parse_passwd_primary_gids(fs.read_text("/etc/passwd")) if user_gid == gid]
    return {"gid": gid, "members": sorted(set(members) | set(primary))}


def decode_proc_net_address(hex_addr: str, ipv6: bool) -> tuple[str, int]:
    addr_hex, port_hex = hex_addr.split(":")
    raw = bytes.fromhex(addr_hex)
    if ipv6:
        # Four 32-bit words, each in host (little-endian) byte order.
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        addr = socket.inet_ntop(socket.AF_INET6, raw)
    else:
        addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
    return addr, int(port_hex, 16)


def socket_owners(fs: HostFS) -> dict[int, tuple[int, str]]:
    """socket inode -> (pid, comm), from /proc/<pid>/fd links; processes that vanish or hide are skipped."""
    owners: dict[int, tuple[int, str]] = {}
    for entry in fs.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            fds = fs.listdir(f"/proc/{pid}/fd")
            comm = fs.read_text(f"/proc/{pid}/comm").strip()
        except OSError:
            continue
        for fd in fds:
            try:
                target = fs.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target.endswith("]"):
                owners.setdefault(int(target[8:-1]), (pid, comm))
    return owners


def read_listening_sockets(fs: HostFS) -> list[dict[str, Any]]:
    """Listening TCP sockets, as `ss -lntp` shows them."""
    rows: list[tuple[str, str, int, int]] = []
    for proto, path, ipv6 in (("tcp", "/proc/net/tcp", False), ("tcp6", "/proc/net/tcp6", True)):
        if not fs.exists(path):
            continue
        for line in fs.read_text(path).splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != TCP_LISTEN:
                continue
            addr, port = decode_proc_net_address(fields[1], ipv6)
            rows.append((proto, addr, port, int(fields[9])))
    owners = socket_owners(fs) if rows else {}
    sockets = []
    for proto, addr, port, inode in rows:
        pid, comm = owners.get(inode, (None, None))
        sockets.append({"proto": proto, "addr": addr, "port": port, "pid": pid, "comm": comm})
    return sorted(sockets, key=lambda s: (s["proto"], s["port"], s["addr"]))


def read_content_trust(fs: HostFS) -> str | None:
    if "DOCKER_CONTENT_TRUST" in os.environ:
        return os.environ["DOCKER_CONTENT_TRUST"]
    try:
        values = parse_os_release(fs.read_text("/etc/environment"))
    except OSError:
        return None
    return values.get("DOCKER_CONTENT_TRUST")


def read_lsm(fs: HostFS) -> dict[str, Any]:
    apparmor = False
    path = "/sys/module/apparmor/parameters/enabled"
    if fs.exists(path):
        apparmor = fs.read_text(path).strip().upper().startswith("Y")
    selinux = "disabled"
    if fs.exists("/sys/fs/selinux/enforce"):
        selinux = "enforcing" if fs.read_text("/sys/fs/selinux/enforce").strip() == "1" else "permissive"
    return {"apparmor_enabled": apparmor, "selinux": selinux}
