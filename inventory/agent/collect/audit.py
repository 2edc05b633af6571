"""audit: loaded audit rules (`auditctl -l`) and the rule files (1.1.3-1.1.18)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from inventory.agent.errors import ErrorLog
from inventory.agent.hostfs import HostFS

RULES_FILE = "/etc/audit/audit.rules"
RULES_DIR = "/etc/audit/rules.d"
AUDITCTL_PATHS = ("/sbin/auditctl", "/usr/sbin/auditctl", "/usr/bin/auditctl")
AUDITCTL_TIMEOUT = 20


def rule_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def find_auditctl(fs: HostFS) -> str | None:
    if fs.is_live:
        return shutil.which("auditctl") or next((p for p in AUDITCTL_PATHS if fs.is_file(p)), None)
    return next((p for p in AUDITCTL_PATHS if fs.is_file(p)), None)


def run_auditctl(path: str) -> list[str]:
    done = subprocess.run([path, "-l"], capture_output=True, text=True, timeout=AUDITCTL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{path} -l exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    lines = rule_lines(done.stdout)
    return [] if lines == ["No rules"] else lines


def collect_audit(fs: HostFS, errors: ErrorLog) -> dict[str, Any]:
    audit: dict[str, Any] = {"auditctl_available": False, "rules_loaded": None, "rules_files": {}}
    auditctl = find_auditctl(fs)
    audit["auditctl_available"] = auditctl is not None
    if auditctl and fs.is_live:
        with errors.guard("audit", "auditctl -l"):
            audit["rules_loaded"] = run_auditctl(auditctl)
    elif auditctl:
        errors.add("audit", f"{auditctl} exists below the host root but cannot be run from here: rules not loaded")
    paths = [RULES_FILE]
    if fs.exists(RULES_DIR):
        with errors.guard("audit", RULES_DIR):
            paths += [f"{RULES_DIR}/{n}" for n in fs.listdir(RULES_DIR) if n.endswith(".rules")]
    for path in paths:
        if not fs.exists(path):
            continue
        with errors.guard("audit", path):
            audit["rules_files"][path] = rule_lines(fs.read_text(path))
    return audit
