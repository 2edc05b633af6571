"""Inventory API: snapshot ingest for agents, read-only hosts, snapshots, containers and images for people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common.api_errors import ErrorSerializer, error_response
from common.heap import collection_paused
from common.roles import AdminRole, AnyRole
from common.schema import ERROR_DESCRIPTIONS
from inventory.access import readable_host_ids
from inventory.auth import AgentTokenAuthentication, IsAgent
from inventory.filters import ContainerFilterSet, HostFilterSet, ImageFilterSet, SnapshotFilterSet
from inventory.models import Container, Host, Image, Snapshot
from inventory.serializers import (
    ContainerDetailSerializer,
    ContainerSerializer,
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


class ReadableHostsOnly:
    """Lists and lookups hold only the hosts the account reads: a time-limited auditor limited to a label scope sees
    the hosts in that scope (and their snapshots, containers and images); every other account reads them all."""

    host_field = "host_id"

    def filter_queryset(self, queryset):  # type: ignore[no-untyped-def]
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        if getattr(self, "action", None) == "create":
            return queryset
        host_ids = readable_host_ids(self.request.user)  # type: ignore[attr-defined]
        return queryset if host_ids is None else queryset.filter(**{f"{self.host_field}__in": host_ids})


class HostViewSet(ReadableHostsOnly, viewsets.ReadOnlyModelViewSet):
    host_field = "pk"
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


def _chunked_stream(request: Request) -> Any | None:
    """The de-chunked body stream of a `Transfer-Encoding: chunked` request, or None when the server cannot give one.

    Django reads CONTENT_LENGTH bytes, and a chunked request has none, so it would read an empty body. A server that
    de-chunks and ends the stream itself says so with `wsgi.input_terminated` (gunicorn does); read its stream to the end.
    runserver's server does not de-chunk: the request is refused with 411.
    """
    environ = request._request.META
    return environ["wsgi.input"] if environ.get("wsgi.input_terminated") and "wsgi.input" in environ else None


def _is_chunked(request: Request) -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _length_required() -> Response:
    return error_response(
        status.HTTP_411_LENGTH_REQUIRED,
        "length_required",
        {"path": "Content-Length", "reason": "this server cannot read a chunked body (Transfer-Encoding: chunked); "
         "send the snapshot with a Content-Length, or run the server under gunicorn"},
    )


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
class SnapshotViewSet(ReadableHostsOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
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

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:
            Snapshot.load_agent_errors(page)  # two queries for the page, not two for each snapshot
        return page

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAgent()]
        return [AnyRole()]

    @extend_schema(
        summary="Push a snapshot (agents)",
        description="Body: a snapshot v1 JSON document, optionally with `Content-Encoding: gzip`. The same document "
        "again answers 200 with the id it was first stored under. A chunked body (`Transfer-Encoding: chunked`) is read "
        "where the WSGI server de-chunks it (gunicorn); elsewhere (runserver) it is refused with 411.",
        request=OpenApiTypes.OBJECT,
        responses={
            201: SnapshotAcceptedSerializer,
            200: SnapshotAcceptedSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            411: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS["411"]),
            413: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS["413"]),
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
        stream: Any = request._request
        if _is_chunked(request):
            stream = _chunked_stream(request)
            if stream is None:
                return _length_required()
        try:
            with collection_paused():  # the parsed document is a tree of ~100,000 objects (common/heap.py)
                body = read_body(stream, encoding, limit)
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


class ContainerViewSet(ReadableHostsOnly, viewsets.ReadOnlyModelViewSet):
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


class ImageViewSet(ReadableHostsOnly, viewsets.ReadOnlyModelViewSet):
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
