"""Administration models: the limits of an account (time-limited, scoped auditors) and re-judging runs."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.scope import parse_selector


class AccountLimit(models.Model):
    """The limits of one account: usable until `expires_at`, reading only some frameworks and a label scope.

    An account without a row has no limits. Once `expires_at` passes the account cannot log in, use its API token,
    or keep a session (backends, authentication, middleware); empty `frameworks` means every framework.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_limit")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The moment access ends; empty: never.")
    frameworks = models.JSONField(default=list, blank=True, help_text="Framework slugs this account may read; empty: all.")
    scope = models.CharField(
        max_length=500, blank=True, help_text="Label selector ANDed with every scope this account asks for; empty: all hosts."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"limits of {self.user}"

    def is_expired(self, at: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())

    @property
    def is_limited(self) -> bool:
        """Whether anything is limited at all (a row may remain with every limit cleared)."""
        return self.expires_at is not None or bool(self.frameworks) or bool(self.scope)

    @property
    def selector_text(self) -> str:
        return str(parse_selector(self.scope))


class Rejudge(models.Model):
    """A re-judging of stored snapshots after the site policy changed: queued -> running -> done | failed.

    The snapshot ids are fixed when it starts, so a retried task resumes after the last one judged (`done`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    snapshot_ids = models.JSONField(default=list, blank=True, editable=False)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Snapshots judged so far, failed ones included.")
    failed = models.PositiveIntegerField(default=0, help_text="Snapshots whose evaluation failed (their results stand).")
    policy = models.JSONField(default=dict, blank=True, help_text="The policy data this run applies.")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Re-judging #{self.pk} ({self.done}/{self.total}, {self.status})"

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 100 if self.status == self.Status.DONE else 0
        return int(100 * self.done / self.total)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def as_dict(self) -> dict[str, object]:
        """What the progress endpoint answers and the page's script reads."""
        return {
            "id": self.pk, "status": self.status, "status_display": self.get_status_display(), "total": self.total,
            "done": self.done, "failed": self.failed, "percent": self.percent, "error": self.error,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }
