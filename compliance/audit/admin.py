"""Admin: the audit trail is browsable and never editable; changes made in the admin are recorded in it."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from compliance.audit.choices import AuditAction
from compliance.audit.models import AuditEvent
from compliance.audit.services import created, diff, field_values, record


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose adds, changes and deletions go to the audit trail, with the fields that changed."""

    def _fields(self, obj: models.Model) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if not f.primary_key and not isinstance(f, models.BinaryField)]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = field_values(type(obj).objects.get(pk=obj.pk), self._fields(obj)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        after = field_values(obj, self._fields(obj))
        if before is None:
            record(AuditAction.CREATE, obj, request=request, changes=created(after))
        elif changes := diff(before, after):
            record(AuditAction.CHANGE, obj, request=request, changes=changes)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        values = field_values(obj, self._fields(obj))
        record(AuditAction.DELETE, obj, request=request, changes={k: [v, None] for k, v in values.items()})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "actor_username", "action", "content_type", "object_id", "object_repr", "ip"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_username", "object_repr", "object_id"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
