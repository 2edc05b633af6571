"""FilterSets for the frameworks API: one per model, named by catalog keys (slugs and ref_ids), never database ids."""

import django_filters

from frameworks.models import Crosswalk, Framework, Mapping, Requirement


class FrameworkFilterSet(django_filters.FilterSet):
    current = django_filters.BooleanFilter(
        field_name="is_current", help_text="Current revisions only (the default) or, with false, superseded ones."
    )

    class Meta:
        model = Framework
        fields = ["slug", "urn", "revision"]


class RequirementFilterSet(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__ref_id", help_text="ref_id of the parent node.")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", help_text="Root nodes only.")

    class Meta:
        model = Requirement
        fields = ["depth", "assessable", "kind", "section", "level", "assessment", "implementation", "safeguard"]


class CrosswalkFilterSet(django_filters.FilterSet):
    source_framework = django_filters.CharFilter(field_name="source_framework__slug")
    target_framework = django_filters.CharFilter(field_name="target_framework__slug")

    class Meta:
        model = Crosswalk
        fields = ["slug", "urn"]


class MappingFilterSet(django_filters.FilterSet):
    crosswalk = django_filters.CharFilter(field_name="crosswalk__slug", help_text="Crosswalk slug.")
    source_framework = django_filters.CharFilter(field_name="source__framework__slug", help_text="Framework slug.")
    target_framework = django_filters.CharFilter(field_name="target__framework__slug", help_text="Framework slug.")
    source = django_filters.CharFilter(field_name="source__ref_id", help_text="ref_id of the source requirement.")
    target = django_filters.CharFilter(field_name="target__ref_id", help_text="ref_id of the target requirement.")

    class Meta:
        model = Mapping
        fields = ["relationship"]
