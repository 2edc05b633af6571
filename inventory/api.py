"""Inventory API: snapshot ingest for agents, read-only hosts, snapshots, containers and images for people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common.api_errors import error_response
from common.roles import AdminRole, AnyRole
from inventory.auth import AgentTokenAuthentication, IsAgent
from inventory.filters import ContainerFilterSet, HostFilterSet, ImageFilterSet, SnapshotFilterSet
from inventory.models import Container, Host, Image, Snapshot
from inventory.serializers import (
    ContainerDetailSerializer,
    ContainerSerializer,
    ErrorSerializer,
    HostLabelsSerializer,
    HostSerializer,
    ImageDetailSerializer,
    ImageSerializer,
    SnapshotAcceptedSerializer,
    SnapshotDocumentSerializer,
    SnapshotSerializer,
)
from inventory.services import (
    SnapshotTooLarge,
    ingest_snapshot,
    parse_document,
    read_body,
    set_host_labels,
    touch_agent,
)
from inventory.snapshot_format import SnapshotRejected


class HostViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Host.objects.select_related("last_snapshot").defer("last_snapshot__content")
    serializer_class = HostSerializer
    filterset_class = HostFilterSet
    ordering_fields = ["hostname", "last_collected_at", "first_seen_at", "id"]
    ordering = ["hostname", "id"]

    def get_permissions(self) -> list[Any]:
        return [AdminRole()] if self.action == "labels" else [AnyRole()]

    @extend_schema(
        summary="Replace the labels an admin sets on a host",
        request=HostLabelsSerializer,
        responses={200: HostSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=True, methods=["put"])
    def labels(self, request: Request, pk: str) -> Response:
        host = self.get_object()
        try:
            set_host_labels(host.pk, request.data.get("labels") if isinstance(request.data, dict) else None,
                            by=request.user, request=request._request)
        except SnapshotRejected as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"path": exc.path, "reason": exc.reason})
        return Response(HostSerializer(self.get_queryset().get(pk=host.pk)).data)


def _too_large(limit: int) -> Response:
    return error_response(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "too_large",
        {"path": "$", "reason": f"snapshot exceeds the limit of {limit} bytes (PLIMSOLL_MAX_SNAPSHOT_BYTES)"},
    )


@extend_schema_view(
    list=extend_schema(summary="Snapshots received, newest first"),
    retrieve=extend_schema(summary="One snapshot, with the whole document as stored"),
)
class SnapshotViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Snapshot.objects.select_related("host", "agent").defer("content")
    # Agents push with their token; people read with the site's authentication (time-limited accounts included).
    authentication_classes = [AgentTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    filterset_class = SnapshotFilterSet
    ordering_fields = ["collected_at", "received_at", "id"]
    ordering = ["-collected_at", "-id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "retrieve":
            return Snapshot.objects.select_related("host", "agent")
        return super().get_queryset()

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return SnapshotDocumentSerializer if self.action == "retrieve" else SnapshotSerializer

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAgent()]
        return [AnyRole()]

    @extend_schema(
        summary="Push a snapshot (agents)",
        description="Body: a snapshot v1 JSON document, optionally with `Content-Encoding: gzip`. The same document "
        "again answers 200 with the id it was first stored under.",
        request=OpenApiTypes.OBJECT,
        responses={
            201: SnapshotAcceptedSerializer,
            200: SnapshotAcceptedSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            413: ErrorSerializer,
        },
        auth=[{"agentToken": []}],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        limit = settings.PLIMSOLL_MAX_SNAPSHOT_BYTES
        encoding = request.headers.get("Content-Encoding", "")
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return _too_large(limit)
        try:
            body = read_body(request._request, encoding, limit)
            result = ingest_snapshot(parse_document(body), agent=request.auth)
        except SnapshotTooLarge as exc:
            return _too_large(exc.limit)
        except SnapshotRejected as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, exc.code, {"path": exc.path, "reason": exc.reason})
        touch_agent(request.auth)
        snapshot = result.snapshot
        body = {
            "id": snapshot.pk,
            "host": snapshot.host_id,
            "received_at": snapshot.received_at,
            "evaluation": snapshot.evaluation_status,
        }
        if result.created:
            return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{snapshot.pk}/"})
        return Response(body, status=status.HTTP_200_OK)


class ContainerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Container.objects.select_related("host")
    filterset_class = ContainerFilterSet
    ordering_fields = ["name", "created", "id", "snapshot"]
    ordering = ["-snapshot_id", "name", "id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "retrieve":
            return Container.objects.select_related("host", "snapshot")
        return super().get_queryset()

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return ContainerDetailSerializer if self.action == "retrieve" else ContainerSerializer


class ImageViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Image.objects.select_related("host")
    filterset_class = ImageFilterSet
    ordering_fields = ["created", "size", "id", "snapshot"]
    ordering = ["-snapshot_id", "image_id", "id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "retrieve":
            return Image.objects.select_related("host", "snapshot")
        return super().get_queryset()

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return ImageDetailSerializer if self.action == "retrieve" else ImageSerializer
