"""dockerd: the newest dockerd process (as `pgrep -f -n dockerd`), its daemon.json and its systemd units."""

from __future__ import annotations

import json
from typing import Any

from inventory.agent.errors import ErrorLog
from inventory.agent.hostfs import HostFS

DEFAULT_CONFIG_FILE = "/etc/docker/daemon.json"
UNITS = ("docker.service", "docker.socket", "containerd.service")
# Where get_service_file in docker-bench looks, in its order; /run covers generated and transient units.
UNIT_DIRS = (
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/system",
    "/run/systemd/generator",
    "/run/systemd/transient",
    "/usr/lib/systemd/system",
)
DROPIN_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")


def collect_dockerd(fs: HostFS, errors: ErrorLog) -> dict[str, Any]:
    dockerd: dict[str, Any] = {
        "pid": None,
        "uid": None,
        "exe": None,
        "argv": None,
        "config_file": DEFAULT_CONFIG_FILE,
        "daemon_json": {"raw": None, "parse_error": None},
        "systemd": None,
    }
    with errors.guard("dockerd"):
        process = find_dockerd(fs)
        if process is None:
            errors.add("dockerd", "no dockerd process found in /proc")
        else:
            dockerd.update(process)
            dockerd["config_file"] = config_file_from_argv(process["argv"]) or DEFAULT_CONFIG_FILE
    with errors.guard("daemon_json", dockerd["config_file"]):
        dockerd["daemon_json"] = read_daemon_json(fs, dockerd["config_file"])
    with errors.guard("systemd"):
        dockerd["systemd"] = {unit: resolve_unit(fs, unit) for unit in UNITS}
    return dockerd


def _start_time(fs: HostFS, pid: int) -> int:
    stat = fs.read_text(f"/proc/{pid}/stat")
    # comm may contain spaces and parentheses: the fields after it start past the last ')'.
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def find_dockerd(fs: HostFS) -> dict[str, Any] | None:
    candidates: list[tuple[int, int, list[str]]] = []
    for entry in fs.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            argv = [a for a in fs.read_bytes(f"/proc/{pid}/cmdline").decode(errors="replace").split("\0")]
        except OSError:
            continue
        if argv and argv[-1] == "":
            argv.pop()
        if not argv or argv[0].rsplit("/", 1)[-1] != "dockerd":
            continue
        try:
            started = _start_time(fs, pid)
        except (OSError, ValueError, IndexError):
            started = 0
        candidates.append((started, pid, argv))
    if not candidates:
        return None
    _, pid, argv = max(candidates)
    uid = None
    for line in fs.read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith("Uid:"):
            uid = int(line.split()[1])
    try:
        exe: str | None = fs.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = None
    return {"pid": pid, "uid": uid, "exe": exe, "argv": argv}


def option_values(argv: list[str], *names: str) -> list[str]:
    """Values of long options given as `--name value` or `--name=value`."""
    values = []
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                values.append(argv[index + 1])
            elif arg.startswith(name + "="):
                values.append(arg[len(name) + 1 :])
    return values


def config_file_from_argv(argv: list[str]) -> str | None:
    values = option_values(argv, "--config-file")
    return values[-1] if values else None


def read_daemon_json(fs: HostFS, path: str) -> dict[str, Any]:
    """A missing daemon.json is normal (defaults apply); one that does not parse is reported as parse_error."""
    if not fs.exists(path):
        return {"raw": None, "parse_error": None}
    text = fs.read_text(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return {"raw": None, "parse_error": str(exc)}
    if not isinstance(raw, dict):
        return {"raw": None, "parse_error": f"expected a JSON object, got {type(raw).__name__}"}
    return {"raw": raw, "parse_error": None}


def parse_exec_start(texts: list[str]) -> list[str] | None:
    """ExecStart lines over the fragment then its drop-ins: an empty ExecStart= resets the list, as systemd does."""
    lines: list[str] | None = None
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith("ExecStart="):
                continue
            value = line[len("ExecStart=") :].strip()
            lines = [] if not value else (lines or []) + [value]
    return lines


def resolve_unit(fs: HostFS, unit: str) -> dict[str, Any]:
    fragment = next((f"{d}/{unit}" for d in UNIT_DIRS if fs.exists(f"{d}/{unit}")), None)
    dropins: list[str] = []
    for directory in DROPIN_DIRS:
        path = f"{directory}/{unit}.d"
        if fs.exists(path):
            dropins += [f"{path}/{name}" for name in fs.listdir(path) if name.endswith(".conf")]
    texts = [fs.read_text(p) for p in ([fragment] if fragment else []) + dropins if fs.is_file(p)]
    return {"fragment_path": fragment, "dropins": dropins, "exec_start": parse_exec_start(texts)}
