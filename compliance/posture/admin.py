from django.contrib import admin

from audit.admin import AuditedModelAdmin
from common.admin import ReadOnlyAdmin
from compliance.posture.models import Assessment, PostureRecord


@admin.register(Assessment)
class AssessmentAdmin(AuditedModelAdmin):
    list_display = ["name", "framework_slug", "selector", "include_stopped"]


@admin.register(PostureRecord)
class PostureRecordAdmin(ReadOnlyAdmin):
    """Daily posture records are evidence of the trend: browsed here, never added, changed or deleted."""

    list_display = ["framework_slug", "selector", "day", "hosts"]
