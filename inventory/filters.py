"""FilterSets: one per model, driving both the API query parameters and the HTML list filters."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact

from inventory.models import Container, Host, Snapshot
from inventory.snapshot_format import label_problem


def validate_label_filter(value: str) -> None:
    """`key` (has the label) or `key=value` (has it with that value), under the rule labels themselves follow."""
    key, _, wanted = value.partition("=")
    if (problem := label_problem(key, wanted)) is not None:
        raise ValidationError(f"{value[:80]!r} is not key or key=value (e.g. env=prod): {problem}")


class HostFilterSet(django_filters.FilterSet):
    hostname = django_filters.CharFilter(lookup_expr="icontains")
    label = django_filters.CharFilter(
        method="filter_label", validators=[validate_label_filter],
        help_text="key=value: the host has that effective label (rules, agent, admin); key alone: it has the key.",
    )

    class Meta:
        model = Host
        fields = ["hostname", "machine_id", "arch", "docker_version"]

    def filter_label(self, queryset: QuerySet[Host], name: str, value: str) -> QuerySet[Host]:
        key, sep, wanted = value.partition("=")
        if not sep:
            return queryset.filter(effective_labels__has_key=key)
        # An explicit key transform: `effective_labels__<key>` would read `__` in a key (a valid label key) as a path.
        return queryset.filter(Exact(KeyTextTransform(key, "effective_labels"), wanted))

    @property
    def qs(self) -> QuerySet[Host]:
        # A filter that cannot be read selects no host rather than every host (the API answers 400 before this).
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs


class SnapshotFilterSet(django_filters.FilterSet):
    collected_after = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="gte")
    collected_before = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="lt")
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only the snapshot that stands for each host: its latest judged one."
    )

    class Meta:
        model = Snapshot
        fields = ["host", "sha256", "evaluation_status", "schema"]

    def filter_latest(self, queryset: QuerySet[Snapshot], name: str, value: Any) -> QuerySet[Snapshot]:
        if not value:
            return queryset
        return queryset.standing()


class ContainerFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    image = django_filters.CharFilter(lookup_expr="icontains")
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only containers of the snapshot that stands for each host (latest judged)."
    )

    class Meta:
        model = Container
        fields = ["host", "snapshot", "container_id", "state", "running", "image_id"]

    def filter_latest(self, queryset: QuerySet[Container], name: str, value: Any) -> QuerySet[Container]:
        if not value:
            return queryset
        return queryset.filter(snapshot__in=Snapshot.objects.standing().values("pk"))
