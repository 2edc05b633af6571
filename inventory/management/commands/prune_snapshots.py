"""manage.py prune_snapshots: apply PLIMSOLL_SNAPSHOT_RETENTION_DAYS (0, the default, keeps every snapshot)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.services import prune_snapshots


class Command(BaseCommand):
    help = "Delete snapshots older than the retention period; each host's latest snapshot is always kept."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override PLIMSOLL_SNAPSHOT_RETENTION_DAYS for this run.")

    def handle(self, *args: object, days: int | None, **options: object) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        effective = days if days is not None else settings.PLIMSOLL_SNAPSHOT_RETENTION_DAYS
        if effective <= 0:
            self.stdout.write("Retention is off (PLIMSOLL_SNAPSHOT_RETENTION_DAYS=0): nothing deleted.")
            return
        self.stdout.write(f"Deleted {prune_snapshots(retention_days=effective)} snapshot(s) older than {effective} days.")
