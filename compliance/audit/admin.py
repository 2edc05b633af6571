"""Admin: the audit trail is browsable and never editable."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from compliance.audit.models import AuditEvent


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
