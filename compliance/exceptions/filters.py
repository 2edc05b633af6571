"""RiskAcceptanceFilterSet: drives both the /api/v1/exceptions/ query parameters and the exception list page."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.exceptions.choices import RiskAcceptanceStatus, RiskRating, ScopeKind
from compliance.exceptions.models import RiskAcceptance

Status = RiskAcceptanceStatus


def effective_status_q(status: str) -> Q:
    """The rows whose effective status (expiry applied now) is `status`."""
    now = timezone.now()
    if status == Status.EXPIRED:
        return Q(status__in=[Status.REQUESTED, Status.APPROVED], expires_at__lte=now)
    if status in (Status.REQUESTED, Status.APPROVED):
        return Q(status=status, expires_at__gt=now)
    return Q(status=status)


class RiskAcceptanceFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, method="filter_status", help_text="Effective status: expired is computed from the expiry."
    )
    control = django_filters.CharFilter(help_text="CIS Docker recommendation ref_id, e.g. 5.5.")
    scope_kind = django_filters.ChoiceFilter(choices=ScopeKind.choices)
    risk_rating = django_filters.ChoiceFilter(choices=RiskRating.choices)
    requested_by = django_filters.CharFilter(field_name="requested_by__username")
    host = django_filters.NumberFilter(field_name="scope_host")
    stale = django_filters.BooleanFilter(field_name="stale_since", lookup_expr="isnull", exclude=True)
    expires_before = django_filters.IsoDateTimeFilter(field_name="expires_at", lookup_expr="lt")
    expires_after = django_filters.IsoDateTimeFilter(field_name="expires_at", lookup_expr="gte")

    class Meta:
        model = RiskAcceptance
        fields = ["status", "control", "scope_kind", "risk_rating", "requested_by", "host", "stale"]

    def filter_status(self, queryset: QuerySet[RiskAcceptance], name: str, value: list[str]) -> QuerySet[RiskAcceptance]:
        if not value:
            return queryset
        wanted = Q()
        for status in value:
            wanted |= effective_status_q(status)
        return queryset.filter(wanted)
