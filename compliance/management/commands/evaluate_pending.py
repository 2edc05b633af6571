"""manage.py evaluate_pending: send snapshots still queued (e.g. the broker was down at ingest) to the task queue."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from compliance.services import enqueue_pending


class Command(BaseCommand):
    help = (
        "Enqueue the evaluation of snapshots left queued (or stuck running, e.g. a worker died) for longer than "
        "--older-than minutes; --include-failed retries failed ones too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=10, help="Minutes a snapshot has waited (default 10).")
        parser.add_argument("--include-failed", action="store_true")

    def handle(self, *args: object, older_than: int, include_failed: bool, **options: object) -> None:
        waited = timedelta(minutes=older_than)
        self.stdout.write(f"Enqueued {enqueue_pending(waited, waited, include_failed)} snapshot(s).")
