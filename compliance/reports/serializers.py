"""Serializers of the report API: the report as stored, and the request that creates one."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from compliance.reports.choices import ReportKind, ReportStatus
from compliance.reports.models import Report


class ReportSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework_slug", read_only=True)
    host_name = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    download_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id", "kind", "framework", "framework_urn", "framework_revision", "scope", "host", "host_name",
            "include_stopped", "as_of", "period_start", "period_end", "requested_by", "status", "progress", "stage",
            "error", "attempts", "sha256", "manifest_sha256", "size_bytes", "pages", "created_at", "started_at",
            "finished_at", "generator_version", "url", "download_url",
        ]
        read_only_fields = fields

    def get_host_name(self, report: Report) -> str | None:
        return report.host.hostname if report.host_id else None

    def get_download_url(self, report: Report) -> str | None:
        return reverse("report-download", args=[report.pk]) if report.status == ReportStatus.DONE else None

    def get_url(self, report: Report) -> str:
        return reverse("report-detail", args=[report.pk])


class ReportRequestSerializer(serializers.Serializer):
    """What a report request takes; the service checks the combinations and names the wrong field."""

    kind = serializers.ChoiceField(choices=ReportKind.choices)
    framework = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                      help_text="Framework slug, e.g. pci-dss-4.0 (framework assessments).")
    scope = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="Label selector, e.g. pci=cde.")
    host = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                 help_text="Host id or hostname (hardening reports of one host).")
    include_stopped = serializers.BooleanField(required=False, allow_null=True, default=None)
    as_of = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                  help_text="RFC 3339 time or a date (its end); default: now.")
    period_start = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                         help_text="Start of a period (a date means its start).")
    period_end = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                       help_text="End of a period (a date means its end).")


class ReportCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    url = serializers.CharField()
