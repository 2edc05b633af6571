"""Read-only API over the loaded catalogs: frameworks, their requirement trees, crosswalks and mappings (CSV too)."""

from collections import defaultdict
from typing import Any

from django.db.models import Count, QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from common.csv import CSVRenderer, csv_rows_response
from frameworks.filters import CrosswalkFilterSet, FrameworkFilterSet, MappingFilterSet, RequirementFilterSet
from frameworks.models import Crosswalk, Framework, Mapping, Requirement
from frameworks.serializers import (
    CrosswalkSerializer,
    FrameworkSerializer,
    MappingSerializer,
    RequirementSerializer,
    RequirementTreeSerializer,
)

# Catalog slugs contain dots (pci-dss-4.0), which the router's default lookup pattern refuses.
SLUG_PATTERN = r"[^/]+"

FRAMEWORK_SLUG_PARAMETER = OpenApiParameter("framework_slug", OpenApiTypes.STR, OpenApiParameter.PATH)
REVISION_PARAMETER = OpenApiParameter(
    "revision", OpenApiTypes.INT, description="A specific catalog revision; the current one by default."
)


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Frameworks: current revisions unless `current=false`; one by slug, current unless `revision` is given."""

    serializer_class = FrameworkSerializer
    filterset_class = FrameworkFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    ordering_fields = ["slug", "name", "revision", "loaded_at"]
    ordering = ["slug", "-revision"]

    def get_queryset(self) -> QuerySet[Framework]:
        queryset = Framework.objects.annotate(requirement_count=Count("requirements"))
        if self.action == "list" and "current" not in self.request.query_params:
            queryset = queryset.filter(is_current=True)
        return queryset

    def get_object(self) -> Framework:
        lookup = _framework_lookup(self.kwargs["slug"], self.request.query_params.get("revision"))
        framework = get_object_or_404(Framework.objects.annotate(requirement_count=Count("requirements")), **lookup)
        self.check_object_permissions(self.request, framework)
        return framework

    @extend_schema(parameters=[REVISION_PARAMETER])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)


def _framework_lookup(slug: str, revision: str | None) -> dict[str, Any]:
    lookup: dict[str, Any] = {"slug": slug}
    if revision is None:
        lookup["is_current"] = True
    elif revision.isdigit():
        lookup["revision"] = int(revision)
    else:
        raise serializers.ValidationError({"revision": "Must be a whole number."})
    return lookup


@extend_schema_view(
    list=extend_schema(
        parameters=[
            FRAMEWORK_SLUG_PARAMETER,
            REVISION_PARAMETER,
            OpenApiParameter(
                "nested",
                OpenApiTypes.BOOL,
                description="Give each node its subtree under `children`; without other filters, lists the roots.",
            ),
        ]
    ),
    retrieve=extend_schema(parameters=[FRAMEWORK_SLUG_PARAMETER, REVISION_PARAMETER]),
)
class RequirementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requirement tree of one framework (its current revision unless `revision` is given), by ref_id."""

    serializer_class = RequirementSerializer
    filterset_class = RequirementFilterSet
    lookup_field = "ref_id"
    lookup_value_regex = SLUG_PATTERN
    ordering_fields = ["order", "ref_id", "depth"]
    ordering = ["order"]

    def get_queryset(self) -> QuerySet[Requirement]:
        if getattr(self, "swagger_fake_view", False):
            return Requirement.objects.none()
        lookup = _framework_lookup(self.kwargs["framework_slug"], self.request.query_params.get("revision"))
        framework = get_object_or_404(Framework, **lookup)
        return framework.requirements.select_related("framework", "parent")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.query_params.get("nested", "").lower() not in {"1", "true", "yes"}:
            return super().list(request, *args, **kwargs)
        nodes = self.get_queryset()
        listed = nodes
        if not {"parent", "depth", "root"} & request.query_params.keys():
            listed = nodes.filter(parent__isnull=True)  # whole trees, each node once
        page = self.paginate_queryset(self.filter_queryset(listed))
        children: dict[int | None, list[Requirement]] = defaultdict(list)
        for node in nodes.order_by("order"):
            children[node.parent_id].append(node)
        context = {**self.get_serializer_context(), "children": children}
        return self.get_paginated_response(RequirementTreeSerializer(page, many=True, context=context).data)


class CrosswalkViewSet(viewsets.ReadOnlyModelViewSet):
    """Current crosswalks; their rows are at /mappings/?crosswalk=<slug>."""

    serializer_class = CrosswalkSerializer
    filterset_class = CrosswalkFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    ordering_fields = ["slug", "name"]
    ordering = ["slug"]

    def get_queryset(self) -> QuerySet[Crosswalk]:
        return (
            Crosswalk.objects.filter(is_current=True)
            .select_related("source_framework", "target_framework")
            .annotate(mapping_count=Count("mappings"))
        )


class MappingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Rows of the current crosswalks; `?format=csv` streams every matching row, unpaginated, as CSV."""

    serializer_class = MappingSerializer
    filterset_class = MappingFilterSet
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    ordering_fields = ["order", "source__ref_id", "target__ref_id", "relationship"]
    ordering = ["crosswalk__slug", "order"]

    def get_queryset(self) -> QuerySet[Mapping]:
        return Mapping.objects.filter(crosswalk__is_current=True).select_related(
            "crosswalk", "source__framework", "target__framework"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | StreamingHttpResponse:
        if request.accepted_renderer.format != "csv":
            return super().list(request, *args, **kwargs)
        columns = list(MappingSerializer.Meta.fields)
        serializer = self.get_serializer()
        mappings = self.filter_queryset(self.get_queryset()).iterator(chunk_size=2000)
        rows = ([row[column] for column in columns] for row in map(serializer.to_representation, mappings))
        name = request.query_params.get("crosswalk") or "mappings"
        return csv_rows_response(f"{name}.csv", columns, rows)
