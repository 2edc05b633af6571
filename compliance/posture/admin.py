from django.contrib import admin

from audit.admin import AuditedModelAdmin
from compliance.posture.models import Assessment, PostureRecord


@admin.register(Assessment)
class AssessmentAdmin(AuditedModelAdmin):
    list_display = ["name", "framework_slug", "selector", "include_stopped"]


@admin.register(PostureRecord)
class PostureRecordAdmin(admin.ModelAdmin):
    list_display = ["framework_slug", "selector", "day", "hosts"]
    readonly_fields = ["framework_slug", "selector", "day", "recorded_at", "hosts", "summary"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
