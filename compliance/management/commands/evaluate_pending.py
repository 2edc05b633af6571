"""manage.py evaluate_pending: send snapshots still queued (e.g. the broker was down at ingest) to the task queue."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from compliance.tasks import evaluate_snapshot
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot


class Command(BaseCommand):
    help = (
        "Enqueue the evaluation of snapshots left queued (or stuck running, e.g. a worker died) for longer than "
        "--older-than minutes; --include-failed retries failed ones too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=10, help="Minutes a snapshot has waited (default 10).")
        parser.add_argument("--include-failed", action="store_true")

    def handle(self, *args: object, older_than: int, include_failed: bool, **options: object) -> None:
        statuses = [EvaluationStatus.QUEUED, EvaluationStatus.RUNNING] + ([EvaluationStatus.FAILED] if include_failed else [])
        cutoff = timezone.now() - timedelta(minutes=older_than)
        ids = list(Snapshot.objects.filter(evaluation_status__in=statuses, received_at__lt=cutoff).values_list("id", flat=True))
        for snapshot_id in ids:
            evaluate_snapshot.delay(snapshot_id)
        self.stdout.write(f"Enqueued {len(ids)} snapshot(s).")
