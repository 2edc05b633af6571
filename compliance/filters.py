"""FilterSets of the compliance domain."""

import django_filters

from compliance.choices import ResultStatus, TargetKind
from compliance.models import Result
from inventory.models import Snapshot


class ResultFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ResultStatus.choices)
    target_kind = django_filters.ChoiceFilter(choices=TargetKind.choices)
    control = django_filters.CharFilter(help_text="CIS Docker recommendation id, e.g. 5.5.")
    section = django_filters.CharFilter(field_name="control", lookup_expr="startswith", help_text="e.g. 5. for runtime.")
    container = django_filters.CharFilter(method="filter_container", help_text="Container name or id (prefix).")
    image = django_filters.CharFilter(method="filter_image", help_text="Image tag or id (prefix).")
    latest = django_filters.BooleanFilter(
        method="filter_latest", help_text="Only results of the snapshot that stands for each host (its latest judged one)."
    )
    all_runs = django_filters.BooleanFilter(method="filter_all_runs", help_text="Include results of superseded runs.")

    class Meta:
        model = Result
        fields = ["host", "snapshot", "evaluation", "control", "status", "target_kind"]

    def filter_container(self, queryset, name, value):  # type: ignore[no-untyped-def]
        queryset = queryset.filter(target_kind=TargetKind.CONTAINER)
        return queryset.filter(target_name=value.lstrip("/")) | queryset.filter(target_id__startswith=value)

    def filter_image(self, queryset, name, value):  # type: ignore[no-untyped-def]
        queryset = queryset.filter(target_kind=TargetKind.IMAGE)
        return queryset.filter(target_name=value) | queryset.filter(target_id__startswith=value)

    def filter_latest(self, queryset, name, value):  # type: ignore[no-untyped-def]
        if not value:
            return queryset
        return queryset.filter(snapshot__in=Snapshot.objects.standing().values("pk"))

    def filter_all_runs(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset

    @property
    def qs(self):  # type: ignore[no-untyped-def]
        queryset = super().qs
        # Superseded runs are history: hidden unless asked for (or the run is named).
        if not self.form.cleaned_data.get("all_runs") and not self.form.cleaned_data.get("evaluation"):
            queryset = queryset.filter(is_current=True)
        return queryset
