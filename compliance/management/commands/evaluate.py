"""`manage.py evaluate FILE [--format json|table] [--info FILE] [--daemon-json FILE]`: judge a snapshot or `docker
inspect` output, no database. For inspect output, --info and --daemon-json give the host's context."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL, CheckResult, Policy, PolicyError, evaluate
from compliance.engine.inputs import InputError, daemon_json, docker_info, is_snapshot, snapshot_from_document

SECTIONS = {
    "1": "Host configuration",
    "2": "Docker daemon configuration",
    "3": "Docker daemon configuration files",
    "4": "Container images and build file",
    "5": "Container runtime",
    "6": "Docker security operations",
    "7": "Docker swarm configuration",
}
LABELS = {"pass": "PASS", "fail": "FAIL", "info": "INFO", "manual": "NOTE", "not_applicable": "N/A ", "error": "ERR "}
STATUS_ORDER = ("pass", "fail", "manual", "info", "not_applicable", "error")
# Container checks that read the host's context, which bare docker inspect output lacks, and the option that gives it.
CONTEXT_CHECKS = {
    "5.2": "--info (docker info: SecurityOptions, is AppArmor enabled)",
    "5.3": "--info (docker info: SecurityOptions, is SELinux enabled)",
    "5.22": "--info (docker info: SecurityOptions, the daemon's seccomp profile)",
    "5.26": "--daemon-json (the daemon-wide no-new-privileges default)",
}


class Command(BaseCommand):
    help = "Evaluate a snapshot file, or a file of docker inspect output, against CIS Docker v1.6.0 (no database)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a plimsoll.snapshot/v1 file, or docker inspect output (an array or one object)")
        parser.add_argument("--format", choices=("json", "table"), default="json")
        parser.add_argument("--policy", help="a site policy file (JSON or YAML); without one, policy checks stay manual")
        parser.add_argument("--info", metavar="FILE",
                            help="for docker inspect output: the host's `docker info --format '{{json .}}'`")
        parser.add_argument("--daemon-json", metavar="FILE", help="for docker inspect output: the host's daemon.json")

    def handle(self, *args: Any, **options: Any) -> None:
        document = _load(options["file"], "input")
        info = _context(options.get("info"), "docker info", docker_info)
        daemon = _context(options.get("daemon_json"), "daemon.json", daemon_json)
        try:
            snapshot, scopes = snapshot_from_document(document, info=info, daemon=daemon,
                                                      daemon_path=options.get("daemon_json") or "")
        except InputError as exc:
            raise CommandError(f"{options['file']}: {exc}", returncode=2) from None
        policy = Policy()
        if options.get("policy"):
            try:
                policy = Policy.from_dict(_load(options["policy"], "policy"))
            except PolicyError as exc:
                raise CommandError(f"{options['policy']}: {exc}", returncode=2) from None
        results = [r for r in evaluate(snapshot, policy) if CHECKS_BY_CONTROL[r.control].scope in scopes]
        lacking = [] if is_snapshot(document) else lacking_context(results)
        if options["format"] == "json":
            out: dict[str, Any] = {"benchmark": BENCHMARK, "results": [r.to_dict() for r in results]}
            if lacking:
                out["lacking_context"] = lacking
            self.stdout.write(json.dumps(out, indent=2, default=str))
        else:
            self.stdout.write(render_table(results))
            if lacking:
                self.stdout.write(render_lacking(lacking))


def lacking_context(results: list[CheckResult]) -> list[dict[str, str]]:
    """The context checks that could not be judged on docker inspect output, what gives them context, and why."""
    reasons: dict[str, str] = {}
    for result in results:
        if result.control in CONTEXT_CHECKS and str(result.status) == "error":
            reasons.setdefault(result.control, result.message)
    return [{"control": control, "needs": CONTEXT_CHECKS[control], "reason": reasons[control]}
            for control in CONTEXT_CHECKS if control in reasons]


def render_lacking(lacking: list[dict[str, str]]) -> str:
    lines = ["", "Checks that lacked the host's context (judged error, never pass):"]
    for item in lacking:
        title = CHECKS_BY_CONTROL[item["control"]].title
        lines.append(f"  {item['control']:<7} {title}: give {item['needs']}; {item['reason']}")
    return "\n".join(lines)


def _context(path: str | None, what: str, check: Callable[[Any], dict[str, Any]]) -> dict[str, Any] | None:
    """A context file (docker info, daemon.json), read and checked; a bad one names itself and exits 2."""
    if not path:
        return None
    try:
        return check(_load(path, what))
    except InputError as exc:
        raise CommandError(f"{path}: {exc}", returncode=2) from None


def _load(path: str, what: str) -> Any:
    file = Path(path)
    try:
        text = sys.stdin.read() if path == "-" else file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read the {what} file {path}: {exc.strerror or exc}", returncode=2) from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text", returncode=2) from None
    try:
        if what == "policy" and file.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CommandError(f"{path} is not valid {'YAML' if file.suffix in ('.yaml', '.yml') else 'JSON'}: {exc}",
                           returncode=2) from None  # fmt: skip


def _target(result: CheckResult) -> str:
    if result.target_kind == "host":
        return ""
    state = f", {result.target_state}" if result.target_state else ""
    return f"{result.target_kind} {result.target_name}{state}: "


def _totals(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if counts[s])


def render_table(results: list[CheckResult]) -> str:
    """A readable report grouped by CIS section, with totals per section and overall, as docker-bench prints."""
    lines: list[str] = []
    overall: Counter[str] = Counter()
    by_section: dict[str, list[CheckResult]] = {}
    for result in results:
        by_section.setdefault(result.control.split(".", 1)[0], []).append(result)
    for section, items in by_section.items():
        lines.append(f"[{section}] {SECTIONS.get(section, 'Section ' + section)}")
        counts: Counter[str] = Counter()
        for r in items:
            status = str(r.status)
            counts[status] += 1
            title = CHECKS_BY_CONTROL[r.control].title
            lines.append(f"  [{LABELS[status]}] {r.control:<7} {title} - {_target(r)}{r.message}")
        overall.update(counts)
        lines.append(f"  Section {section}: {_totals(counts)}")
        lines.append("")
    checks = len({r.control for r in results})
    lines.append(f"Total: {len(results)} results over {checks} checks: {_totals(overall)}")
    return "\n".join(lines)
