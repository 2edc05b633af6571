"""EvidenceFilterSet: drives both the /api/v1/evidence/ query parameters and the evidence list page."""

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.engine import BENCHMARK
from compliance.evidence.choices import EvidenceKind
from compliance.evidence.models import Evidence


class EvidenceFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=EvidenceKind.choices)
    valid = django_filters.BooleanFilter(method="filter_valid", help_text="Counts now (collected_at <= now < valid_until).")
    control = django_filters.CharFilter(method="filter_control", help_text="Attached to this CIS Docker recommendation.")
    requirement = django_filters.NumberFilter(method="filter_requirement", help_text="Attached to this requirement id.")
    framework = django_filters.CharFilter(method="filter_framework", help_text="Attached to a requirement of this framework.")
    host = django_filters.NumberFilter(field_name="scope_host")
    uploaded_by = django_filters.CharFilter(field_name="uploaded_by__username")
    valid_before = django_filters.IsoDateTimeFilter(field_name="valid_until", lookup_expr="lt")
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Evidence
        fields = ["kind", "valid", "control", "requirement", "framework", "host", "uploaded_by", "sha256"]

    def filter_valid(self, queryset: QuerySet[Evidence], name: str, value: bool | None) -> QuerySet[Evidence]:
        if value is None:
            return queryset
        now = timezone.now()
        valid = Q(collected_at__lte=now, valid_until__gt=now)
        return queryset.filter(valid) if value else queryset.exclude(valid)

    def filter_control(self, queryset: QuerySet[Evidence], name: str, value: str) -> QuerySet[Evidence]:
        return queryset.filter(pk__in=Evidence.requirements.through.objects.filter(
            requirement__ref_id=value, requirement__framework__slug=BENCHMARK
        ).values("evidence_id"))

    def filter_requirement(self, queryset: QuerySet[Evidence], name: str, value: int) -> QuerySet[Evidence]:
        return queryset.filter(pk__in=Evidence.requirements.through.objects.filter(requirement_id=value).values("evidence_id"))

    def filter_framework(self, queryset: QuerySet[Evidence], name: str, value: str) -> QuerySet[Evidence]:
        through = Evidence.requirements.through.objects.filter(requirement__framework__slug=value)
        return queryset.filter(pk__in=through.values("evidence_id"))
