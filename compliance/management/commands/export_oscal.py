"""manage.py export_oscal --framework SLUG [--scope SELECTOR] [--as-of WHEN | --period-start A --period-end B]
[--include-stopped true|false] [--poam] [-o FILE]: write OSCAL assessment results (or a POA&M) as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.oscal.services import OscalError, export_from_params


class Command(BaseCommand):
    help = (
        "Export a framework's posture over a scope as OSCAL JSON: assessment results by default, a plan of action and "
        "milestones with --poam. Writes to stdout, or to FILE with -o."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--framework", required=True, help="Slug of a loaded framework, e.g. pci-dss-4.0.1.")
        parser.add_argument("--scope", default="", help="Label selector, e.g. pci=cde,env=prod; empty: every host.")
        parser.add_argument("--as-of", dest="as_of", default="", help="A date (its end) or an RFC 3339 time.")
        parser.add_argument("--period-start", dest="period_start", default="", help="Start of a period (with --period-end).")
        parser.add_argument("--period-end", dest="period_end", default="", help="End of a period.")
        parser.add_argument("--include-stopped", dest="include_stopped", default="",
                            help="true or false: count stopped containers (default: the setting).")
        parser.add_argument("--poam", action="store_true", help="Export the POA&M instead of the assessment results.")
        parser.add_argument("-o", "--output", default="", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = "poam" if options["poam"] else "assessment-results"
        params = {name: options[name] for name in ("framework", "scope", "as_of", "period_start", "period_end",
                                                   "include_stopped")}
        try:
            name, body = export_from_params(kind, params)
        except OscalError as exc:
            option = "--" + exc.field.replace("_", "-")
            raise CommandError(f"{option}: {exc.reason}") from None
        output = options["output"]
        if not output:
            self.stdout.write(body.decode())
            return
        path = Path(output)
        try:
            path.write_bytes(body)
        except OSError as exc:
            raise CommandError(f"-o: cannot write {path}: {exc.strerror}") from None
        self.stderr.write(f"wrote {path} ({len(body)} bytes; suggested name {name})")
