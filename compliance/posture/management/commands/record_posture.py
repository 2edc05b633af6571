"""manage.py record_posture [--backfill DAYS]: write today's posture records; with --backfill, first rebuild those of
the last DAYS days from the stored snapshots (each day's posture as it stood at its end)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.dashboard import trend
from compliance.posture.services import record_daily_posture

MAX_BACKFILL_DAYS = 3660


class Command(BaseCommand):
    help = "Record today's posture of every assessment and framework; --backfill DAYS rebuilds past days as of then."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backfill", type=int, default=0, metavar="DAYS",
                            help="Also rebuild the records of the last DAYS days before today (existing ones rewritten).")

    def handle(self, *args: object, backfill: int, **options: object) -> None:
        if not 0 <= backfill <= MAX_BACKFILL_DAYS:
            raise CommandError(f"--backfill must be from 0 to {MAX_BACKFILL_DAYS} days, not {backfill}")
        if backfill:
            days, records = trend.backfill(backfill)
            self.stdout.write(f"Recorded {records} posture records over {days} days (today and up to {backfill} before).")
        else:
            scopes = record_daily_posture()
            self.stdout.write(f"Recorded today's posture of {scopes} scopes.")
