"""Admin: reports are browsed here, never changed or deleted (they are evidence of what an auditor received)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from compliance.reports.models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "framework_slug", "scope", "status", "requested_by", "created_at", "pages", "sha256"]
    list_filter = ["kind", "status"]
    search_fields = ["sha256", "manifest_sha256", "framework_slug", "scope"]
    list_select_related = ["requested_by"]
