"""`manage.py import_evidence KIND FILE --user NAME [--identity ID --issuer URL] [--host HOST]`: import a Trivy scan,
a Cosign verification or a docker-bench-security log as evidence, as the API does (checked, hashed, stored once,
audited)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.imports.api import describe
from compliance.imports.choices import ImportKind
from compliance.imports.parsers import ImportRejected
from compliance.imports.services import NotPermitted, import_evidence


class Command(BaseCommand):
    help = ("Import a Trivy image scan (trivy image --format json), a Cosign verification (cosign verify --output json) "
            "or a docker-bench-security log (the JSON file -l writes; --host names the host it ran on).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="the tool's output; - reads standard input")
        parser.add_argument("--user", required=True, help="the security manager or admin the import is recorded under")
        parser.add_argument("--identity", default="", help="cosign: the --certificate-identity (or key) verified")
        parser.add_argument("--issuer", default="", help="cosign: the --certificate-oidc-issuer verified")
        parser.add_argument("--host", default="", help="docker-bench: the host it ran on (hostname or id)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from None
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}", returncode=2)
        try:
            result = import_evidence(options["kind"], data, by=user, name=Path(path).name,
                                     identity=options["identity"], issuer=options["issuer"],
                                     host=options["host"] if options["kind"] == ImportKind.DOCKER_BENCH else None)
        except ImportRejected as exc:
            raise CommandError(f"{path}: {exc.field}: {exc.reason}; nothing was stored", returncode=2) from None
        except NotPermitted as exc:
            raise CommandError(str(exc), returncode=2) from None
        body = describe(result.file)
        body["created"] = result.created
        self.stdout.write(json.dumps(body, indent=2, default=str))
