"""Admin: exceptions are browsed here; requests and decisions go through the app, so they are audited and four-eyed."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from compliance.exceptions.models import ExpiryReminder, RiskAcceptance


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["id", "control", "status", "scope_kind", "risk_rating", "requested_by", "approved_by", "expires_at"]
    list_filter = ["status", "scope_kind", "risk_rating"]
    search_fields = ["control", "justification", "scope_selector", "scope_container_pattern", "scope_image"]
    list_select_related = ["requested_by", "approved_by"]


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(ReadOnlyAdmin):
    list_display = ["risk_acceptance", "days_before", "sent_at"]
