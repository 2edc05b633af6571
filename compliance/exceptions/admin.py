"""Admin: exceptions are browsed here; requests and decisions go through the app, so they are audited and four-eyed."""


from django.contrib import admin

from common.admin import ReadOnlyAdmin
from compliance.exceptions.models import ExpiryReminder, RiskAcceptance


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["id", "control", "status", "scope_kind", "risk_rating", "requested_by", "approved_by", "expires_at"]
    list_filter = ["status", "scope_kind", "risk_rating"]
    search_fields = ["control", "justification", "scope_selector", "scope_container_pattern", "scope_image"]
    list_select_related = ["requested_by", "approved_by"]


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(ReadOnlyAdmin):
    list_display = ["subject", "days_before", "sent_at", "recipients"]
    list_select_related = ["subject__scope_host"]
