"""The audit trail: one append-only row per thing a person (or the system) did."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from audit.choices import AuditAction


class AuditEventIsImmutable(Exception):
    """Raised when code tries to change or delete a recorded audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditEventIsImmutable("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventIsImmutable("audit events cannot be deleted")


class AuditEvent(models.Model):
    """Who did what to which object, when and from where, with the fields it changed ({field: [old, new]}).

    Rows are only ever added: save() on an existing row and delete() raise AuditEventIsImmutable.
    """

    timestamp = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events", editable=False
    )
    actor_username = models.CharField(max_length=150, blank=True, editable=False, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=16, choices=AuditAction.choices, db_index=True, editable=False)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    object_repr = models.CharField(max_length=300, blank=True, editable=False)
    changes = models.JSONField(default=dict, blank=True, editable=False, help_text="{field: [old, new]}")
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="auditevent_object")]

    def __str__(self) -> str:
        who = self.actor_username or "system"
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_repr}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEventIsImmutable("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventIsImmutable("audit events cannot be deleted")

    @property
    def object_label(self) -> str:
        """app_label.model of the object, e.g. exceptions.riskacceptance."""
        if self.content_type_id is None:
            return ""
        ct = ContentType.objects.get_for_id(self.content_type_id)
        return f"{ct.app_label}.{ct.model}"
