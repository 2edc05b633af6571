"""API representations of frameworks, requirements, crosswalks and mappings: catalog objects are named by slug and ref_id."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.schema import CatalogSlugField
from frameworks.models import Crosswalk, Framework, Mapping, Requirement


class FrameworkSerializer(serializers.ModelSerializer):
    slug = CatalogSlugField(help_text="Last segment of the URN, e.g. pci-dss-4.0.")
    requirement_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Framework
        fields = [
            "urn",
            "slug",
            "revision",
            "is_current",
            "name",
            "version",
            "publisher",
            "published_on",
            "source",
            "licence",
            "description",
            "requirement_count",
            "loaded_at",
        ]


class RequirementSerializer(serializers.ModelSerializer):
    urn = serializers.CharField(read_only=True)
    parent = serializers.CharField(source="parent.ref_id", default=None, allow_null=True, read_only=True,
                                   help_text="The parent's ref_id; null for a root.")

    class Meta:
        model = Requirement
        fields = [
            "urn",
            "ref_id",
            "parent",
            "depth",
            "order",
            "section",
            "kind",
            "assessable",
            "title",
            "summary",
            "level",
            "assessment",
            "implementation",
            "safeguard",
        ]


class RequirementTreeSerializer(RequirementSerializer):
    """A requirement with its whole subtree; the view passes every node of the framework in context["children"]."""

    children = serializers.SerializerMethodField()

    class Meta(RequirementSerializer.Meta):
        fields = [*RequirementSerializer.Meta.fields, "children"]

    @extend_schema_field(RequirementSerializer(many=True))
    def get_children(self, requirement: Requirement) -> list[dict[str, Any]]:
        children = self.context["children"].get(requirement.pk, [])
        return RequirementTreeSerializer(children, many=True, context=self.context).data


class CrosswalkSerializer(serializers.ModelSerializer):
    slug = CatalogSlugField()
    source_framework = CatalogSlugField(source="source_framework.slug")
    target_framework = CatalogSlugField(source="target_framework.slug")
    mapping_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Crosswalk
        fields = [
            "urn",
            "slug",
            "revision",
            "is_current",
            "name",
            "source_framework",
            "target_framework",
            "description",
            "method",
            "mapping_count",
            "loaded_at",
        ]


class MappingSerializer(serializers.ModelSerializer):
    """One crosswalk row, flat, so the CSV export and the JSON list carry the same columns."""

    crosswalk = serializers.CharField(source="crosswalk.slug", read_only=True)
    source_framework = serializers.CharField(source="source.framework.slug", read_only=True)
    source = serializers.CharField(source="source.ref_id", read_only=True)
    source_title = serializers.CharField(source="source.title", read_only=True)
    target_framework = serializers.CharField(source="target.framework.slug", read_only=True)
    target = serializers.CharField(source="target.ref_id", read_only=True)
    target_title = serializers.CharField(source="target.title", read_only=True)

    class Meta:
        model = Mapping
        fields = [
            "crosswalk",
            "source_framework",
            "source",
            "source_title",
            "target_framework",
            "target",
            "target_title",
            "relationship",
            "rationale",
            "provenance",
        ]
