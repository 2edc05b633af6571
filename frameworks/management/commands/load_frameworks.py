"""manage.py load_frameworks [PATH...]: load framework catalogs and crosswalks (default: every file in frameworks/catalog/)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frameworks.loader import CatalogError, load_catalogs


class Command(BaseCommand):
    help = (
        "Validate and load framework catalogs and crosswalks from YAML files or directories "
        "(default: frameworks/catalog/). Unchanged files are skipped; a new revision loads beside the old one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", metavar="PATH", help="YAML files or directories of them.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_catalogs(options["paths"] or None)
        except CatalogError as exc:
            raise CommandError(f"nothing was loaded:\n{exc}") from exc
        for name in report.loaded:
            self.stdout.write(self.style.SUCCESS(f"loaded {name}"))
        for name in report.skipped:
            self.stdout.write(f"unchanged {name}")
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
