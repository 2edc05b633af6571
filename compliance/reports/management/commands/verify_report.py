"""manage.py verify_report FILE: is this PDF a report this site produced, unchanged?

Checks, in order: the PAdES signature (intact, valid, made with this site's report signing certificate, covering the
whole file); the file's sha256 against the stored report records; the embedded manifest against the record. Exits 0
when all hold, 1 with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.reports.models import Report
from compliance.reports.signing import check_signature


class Command(BaseCommand):
    help = "Verify a report PDF: its signature, its sha256 against the stored record, and its manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        self.stdout.write(f"file      {path} ({len(data)} bytes)")
        self.stdout.write(f"sha256    {digest}")

        signature = check_signature(data)
        if not signature.ok:
            raise CommandError(f"signature: {signature.reason}")
        self.stdout.write(f"signature {signature.reason}; signer {signature.signer}; signed {signature.signed_at}")

        report = Report.objects.filter(sha256=digest).select_related("requested_by").first()
        if report is None:
            raise CommandError("record: no stored report has this sha256 (a copy of another site's report, or altered "
                               "and re-signed)")
        self.stdout.write(f"record    report {report.pk} ({report.get_kind_display()}), requested by "
                          f"{report.requested_by.get_username()} on {report.created_at:%Y-%m-%d %H:%M} UTC")

        manifest = _manifest(data)
        if manifest is None:
            raise CommandError("manifest: the PDF has no manifest.json attachment")
        if hashlib.sha256(manifest).hexdigest() != report.manifest_sha256:
            raise CommandError("manifest: its sha256 differs from the one stored with the report")
        if json.loads(manifest).get("report", {}).get("id") != report.pk:
            raise CommandError("manifest: it names another report")
        self.stdout.write(f"manifest  sha256 {report.manifest_sha256} matches the record")
        self.stdout.write(self.style.SUCCESS(f"OK: report {report.pk} is intact and was produced by this site"))


def _manifest(data: bytes) -> bytes | None:
    import pypdf

    try:
        attachments = pypdf.PdfReader(io.BytesIO(data)).attachments
    except Exception:  # the signature check already parsed it; anything odd here means no readable manifest
        return None
    found = attachments.get("manifest.json")
    return found[0] if found else None
