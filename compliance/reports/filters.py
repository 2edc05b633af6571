"""ReportFilterSet: drives both the /api/v1/reports/ query parameters and the reports page list."""

import django_filters

from compliance.reports.choices import ReportKind, ReportStatus
from compliance.reports.models import Report


class ReportFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    framework = django_filters.CharFilter(field_name="framework_slug")
    requested_by = django_filters.CharFilter(field_name="requested_by__username")
    sha256 = django_filters.CharFilter(lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Report
        fields = ["kind", "status", "framework", "requested_by", "sha256"]
