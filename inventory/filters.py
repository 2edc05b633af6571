"""FilterSets: one per model, driving both the API query parameters and the HTML list filters."""

import django_filters

from inventory.models import Container, Host, Snapshot


class HostFilterSet(django_filters.FilterSet):
    hostname = django_filters.CharFilter(lookup_expr="icontains")
    label = django_filters.CharFilter(method="filter_label", help_text="key=value; the host carries that label.")

    class Meta:
        model = Host
        fields = ["hostname", "machine_id", "arch", "docker_version"]

    def filter_label(self, queryset, name, value):  # type: ignore[no-untyped-def]
        key, sep, wanted = value.partition("=")
        if not sep:
            return queryset.filter(labels__has_key=key)
        return queryset.filter(**{f"labels__{key}": wanted})


class SnapshotFilterSet(django_filters.FilterSet):
    collected_after = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="gte")
    collected_before = django_filters.IsoDateTimeFilter(field_name="collected_at", lookup_expr="lt")
    latest = django_filters.BooleanFilter(method="filter_latest", help_text="Only the latest snapshot of each host.")

    class Meta:
        model = Snapshot
        fields = ["host", "sha256", "evaluation_status", "schema"]

    def filter_latest(self, queryset, name, value):  # type: ignore[no-untyped-def]
        if not value:
            return queryset
        return queryset.filter(pk__in=Host.objects.exclude(last_snapshot=None).values("last_snapshot"))


class ContainerFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    image = django_filters.CharFilter(lookup_expr="icontains")
    latest = django_filters.BooleanFilter(method="filter_latest", help_text="Only containers of each host's latest snapshot.")

    class Meta:
        model = Container
        fields = ["host", "snapshot", "container_id", "state", "running", "image_id"]

    def filter_latest(self, queryset, name, value):  # type: ignore[no-untyped-def]
        if not value:
            return queryset
        return queryset.filter(snapshot__in=Host.objects.exclude(last_snapshot=None).values("last_snapshot"))
