"""Estate API: the containers and images of the standing snapshots, with the same FilterSets as their pages
(/containers/, /images/) and, per row, the CIS recommendations that fail on it after the judge."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.administration.limits import readable_host_ids
from compliance.choices import TargetKind
from compliance.hosts.estate_views import failing_by_row, standing_containers, standing_images
from compliance.hosts.filters import EstateContainerFilterSet, EstateImageFilterSet
from compliance.hosts.serializers import EstateContainerSerializer, EstateImageSerializer
from compliance.posture.judge import Judge


class _EstateViewSet(viewsets.ReadOnlyModelViewSet):
    kind = ""
    id_field = ""
    ordering_fields = ["id", "created", "snapshot"]

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        # A scoped auditor reads the rows of the hosts of their label scope only, as on the pages.
        readable = readable_host_ids(self.request.user)
        return queryset if readable is None else queryset.filter(host_id__in=sorted(readable))

    def _context_for(self, rows: list[Any]) -> dict[str, Any]:
        context = self.get_serializer_context()
        context["failing"] = failing_by_row(Judge.at(include_stopped=True), self.kind, rows, self.id_field)
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = list(page if page is not None else self.filter_queryset(self.get_queryset()))
        data = self.get_serializer_class()(rows, many=True, context=self._context_for(rows)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        return Response(self.get_serializer_class()(row, context=self._context_for([row])).data)


class EstateContainerViewSet(_EstateViewSet):
    """Containers of each host's standing snapshot (its latest judged one)."""

    queryset = standing_containers()
    serializer_class = EstateContainerSerializer
    filterset_class = EstateContainerFilterSet
    kind = TargetKind.CONTAINER
    id_field = "container_id"
    ordering_fields = [*_EstateViewSet.ordering_fields, "name"]
    ordering = ["host__hostname", "name", "id"]


class EstateImageViewSet(_EstateViewSet):
    """Images of each host's standing snapshot (its latest judged one)."""

    queryset = standing_images()
    serializer_class = EstateImageSerializer
    filterset_class = EstateImageFilterSet
    kind = TargetKind.IMAGE
    id_field = "image_id"
    ordering_fields = [*_EstateViewSet.ordering_fields, "size"]
    ordering = ["host__hostname", "image_id", "id"]
