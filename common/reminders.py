"""Reminders before a deadline (an exception's expiry, the end of evidence's validity): the thresholds, the record of
what was sent, and the one function that sends them.

Each threshold is sent at most once per subject: the sent reminder is a row, unique on (subject, days_before).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def reminder_days() -> list[int]:
    """Days before a deadline at which people are reminded, largest first (PLIMSOLL_EXPIRY_REMINDER_DAYS)."""
    return sorted({int(d) for d in getattr(settings, "PLIMSOLL_EXPIRY_REMINDER_DAYS", (30, 7, 1))}, reverse=True)


class Reminder(models.Model):
    """A reminder sent `days_before` its subject's deadline, to the recorded recipients; abstract.

    A concrete reminder adds `subject`, a ForeignKey to what it reminds about, with related_name="reminders".
    """

    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["subject_id", "-days_before"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "days_before"],
                name="%(class)s_once_per_threshold",
                violation_error_message="This reminder was already sent.",
            )
        ]


def days_text(days: int) -> str:
    """"1 day", "7 days": the threshold as a reminder's subject line says it."""
    return f"{days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Notice:
    """The email of one reminder; no recipients means the reminder is recorded and nobody is mailed."""

    recipients: list[str]
    subject: str
    body: str


def send_reminders(
    queryset: QuerySet[M],
    *,
    deadline: str,
    now: datetime.datetime,
    notice: Callable[[M, int], Notice],
    on_sent: Callable[[M, Any], object],
) -> int:
    """Remind about the rows of `queryset` whose `deadline` (a datetime field) is less than the largest threshold away.

    Only the nearest threshold crossed is sent, so a subject 5 days from its deadline gets the 7-day reminder, never a
    late 30-day one; a threshold already sent, or a nearer one, is not sent again. The reminder row, the email and
    `on_sent(subject, reminder)` (the audit record) share one transaction: a failed email records nothing, so a retry
    sends it. Returns the number of reminders sent.
    """
    thresholds = reminder_days()
    if not thresholds:
        return 0
    horizon = now + datetime.timedelta(days=thresholds[0])
    window = {f"{deadline}__gt": now, f"{deadline}__lte": horizon}
    sent = 0
    for subject in queryset.filter(**window).prefetch_related("reminders"):
        remaining = getattr(subject, deadline) - now
        due = min(days for days in thresholds if remaining <= datetime.timedelta(days=days))
        if any(reminder.days_before <= due for reminder in subject.reminders.all()):
            continue
        message = notice(subject, due)
        try:
            with transaction.atomic():
                reminder = subject.reminders.create(days_before=due, sent_at=now, recipients=message.recipients)
                if message.recipients:
                    send_mail(message.subject, message.body, None, message.recipients)
                on_sent(subject, reminder)
        except IntegrityError:
            continue  # another run recorded this reminder first
        sent += 1
    return sent
