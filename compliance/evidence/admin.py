"""Admin: evidence is browsed here; uploads go through the app, so they are checked, hashed and audited."""


from django.contrib import admin

from common.admin import ReadOnlyAdmin
from compliance.evidence.models import Evidence, EvidenceReminder


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "uploaded_by", "collected_at", "valid_until", "sha256"]
    list_filter = ["kind"]
    search_fields = ["title", "description", "sha256", "original_name"]
    list_select_related = ["uploaded_by"]


@admin.register(EvidenceReminder)
class EvidenceReminderAdmin(ReadOnlyAdmin):
    list_display = ["subject", "days_before", "sent_at", "recipients"]
    list_select_related = ["subject"]
