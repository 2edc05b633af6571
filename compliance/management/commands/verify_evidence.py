"""manage.py verify_evidence: recompute every snapshot's hash, walk every host's chain, check evidence files and
reports; print a summary and exit 1 on any mismatch."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.verification import run_verification, verify_evidence


class Command(BaseCommand):
    help = "Verify all stored evidence: snapshot hashes, hash chains, evidence files, report files and signatures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument("--no-audit", action="store_true", help="Do not record the outcome in the audit log.")

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = verify_evidence() if options["no_audit"] else run_verification()
        summary = outcome.summary()
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self.stdout.write(
                f"snapshots {outcome.snapshots} ({outcome.rate:.0f}/s), document parts {outcome.parts}, "
                f"chains {outcome.chains} ({outcome.pruned} pruned links), evidence files {outcome.evidence_files}, "
                f"reports {outcome.reports}, in {outcome.seconds:.2f} s"
            )
            for problem in outcome.problems:
                self.stdout.write(f"MISMATCH {problem}")
        if not outcome.ok:
            raise CommandError(f"{outcome.mismatches} mismatch(es) found")
        self.stdout.write(self.style.SUCCESS("OK: all evidence verified"))
