"""manage.py reevaluate: judge stored snapshots again after the rules change, keeping the old results as history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from compliance.engine import ENGINE_VERSION
from compliance.services import evaluate_snapshot
from inventory.models import Host, Snapshot


class Command(BaseCommand):
    help = "Re-evaluate snapshots with the current engine; superseded results stay, marked not current."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="Every stored snapshot (default: each host's latest).")
        which.add_argument("--snapshot", type=int, action="append", help="A snapshot id (repeatable).")
        parser.add_argument("--force", action="store_true", help="Re-judge even where this engine version already did.")

    def handle(self, *args: object, all: bool, snapshot: list[int] | None, force: bool, **options: object) -> None:
        if snapshot:
            queryset = Snapshot.objects.filter(pk__in=snapshot)
        elif all:
            queryset = Snapshot.objects.all()
        else:
            queryset = Snapshot.objects.filter(pk__in=Host.objects.exclude(last_snapshot=None).values("last_snapshot"))
        outcomes: dict[str, int] = {}
        for snapshot_id in queryset.order_by("id").values_list("id", flat=True):
            outcome = evaluate_snapshot(snapshot_id, force=force)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in sorted(outcomes.items())) or "nothing to do"
        self.stdout.write(f"Engine {ENGINE_VERSION}: {summary}.")
