"""AuditEventFilterSet: drives both the /api/v1/audit-log/ query parameters and the audit log page's filters."""

import django_filters
from django.db.models import QuerySet

from audit.choices import AuditAction
from audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    action = django_filters.MultipleChoiceFilter(choices=AuditAction.choices)
    actor = django_filters.CharFilter(field_name="actor_username", help_text="Username of the actor.")
    object_type = django_filters.CharFilter(
        method="filter_object_type", help_text="app_label.model, e.g. exceptions.riskacceptance."
    )
    object_id = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    before = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "object_type", "object_id", "since", "before"]

    def filter_object_type(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)
