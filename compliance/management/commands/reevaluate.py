"""manage.py reevaluate: judge stored snapshots again after the rules change, keeping the old results as history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from compliance.engine import ENGINE_VERSION
from compliance.services import evaluate_snapshot
from inventory.models import Host, Snapshot


class Command(BaseCommand):
    help = "Re-evaluate snapshots with the current engine; superseded results stay, marked not current."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--all", action="store_true",
            help="Every stored snapshot. Default: for each host the snapshot that stands for it (its latest judged "
            "one, whose results are its posture) and its newest snapshot when that is another one, not judged yet or "
            "failed (judged now, it takes over as the standing one).",
        )
        which.add_argument("--snapshot", type=int, action="append", help="A snapshot id (repeatable).")
        parser.add_argument("--force", action="store_true", help="Re-judge even where this engine version already did.")

    def handle(self, *args: object, all: bool, snapshot: list[int] | None, force: bool, **options: object) -> None:
        if snapshot:
            queryset = Snapshot.objects.filter(pk__in=snapshot)
        elif all:
            queryset = Snapshot.objects.all()
        else:
            newest = Host.objects.exclude(last_snapshot=None).values("last_snapshot")
            queryset = Snapshot.objects.filter(Q(pk__in=Snapshot.objects.standing().values("pk")) | Q(pk__in=newest))
        outcomes: dict[str, int] = {}
        for snapshot_id in queryset.order_by("id").values_list("id", flat=True):
            outcome = evaluate_snapshot(snapshot_id, force=force)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in sorted(outcomes.items())) or "nothing to do"
        self.stdout.write(f"Engine {ENGINE_VERSION}: {summary}.")
