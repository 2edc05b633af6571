"""Evidence API: list and read for every role; multipart upload and changes for managers; downloads as attachments."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.api_errors import ErrorSerializer, error_response
from common.parsers import StrictJSONParser
from common.roles import ReadAnyRoleManageByManagers
from compliance.administration.limits import visible_evidence
from compliance.evidence import services
from compliance.evidence.filetypes import UploadRejected, max_upload_bytes
from compliance.evidence.filters import EvidenceFilterSet
from compliance.evidence.models import Evidence
from compliance.evidence.serializers import EvidenceChangeSerializer, EvidenceSerializer
from frameworks.models import Requirement

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 413: ErrorSerializer}
# Room for the multipart envelope and the other fields around the file.
MULTIPART_OVERHEAD = 256 * 1024


def evidence_queryset() -> QuerySet[Evidence]:
    requirements = Requirement.objects.select_related("framework").order_by("framework__slug", "order")
    attached = Prefetch("requirements", queryset=requirements)
    return Evidence.objects.select_related("uploaded_by", "scope_host").prefetch_related(attached)


def attachment(evidence: Evidence) -> FileResponse:
    """The file as a download: never inline, never sniffed, sandboxed if a browser renders it anyway."""
    name = PurePath(evidence.original_name or evidence.file.name).name
    content_type = evidence.content_type or "application/octet-stream"
    response = FileResponse(evidence.file.open("rb"), as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def too_large_response(request: HttpRequest) -> Response | None:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = max_upload_bytes()
    if declared > limit + MULTIPART_OVERHEAD:
        detail = {"file": f"the limit is {limit} bytes (PLIMSOLL_EVIDENCE_MAX_BYTES)"}
        return error_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large", detail)
    return None


@extend_schema_view(
    list=extend_schema(summary="Manual evidence, newest first"),
    retrieve=extend_schema(summary="One piece of evidence"),
    create=extend_schema(
        summary="Add evidence: a file (multipart), a link or a note", responses={201: EvidenceSerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change description, scope, validity or attachments", responses={200: EvidenceSerializer, **ERRORS}
    ),
)
class EvidenceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    filterset_class = EvidenceFilterSet
    permission_classes = [ReadAnyRoleManageByManagers]
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["uploaded_at", "collected_at", "valid_until", "id"]
    ordering = ["-uploaded_at", "-id"]

    def get_queryset(self) -> QuerySet[Evidence]:
        return visible_evidence(evidence_queryset(), self.request.user)

    def get_serializer_class(self) -> type[EvidenceSerializer]:
        return EvidenceChangeSerializer if self.action == "partial_update" else EvidenceSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if refused := too_large_response(request._request):
            return refused
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            evidence = services.upload_evidence(by=request.user, request=request, **serializer.validated_data)
        except PermissionDenied as exc:
            return error_response(status.HTTP_403_FORBIDDEN, "permission_denied", str(exc))
        except UploadRejected as exc:
            http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if exc.code == "too_large" else status.HTTP_400_BAD_REQUEST
            return error_response(http_status, exc.code, {"file": [exc.reason]})
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(EvidenceSerializer(evidence_queryset().get(pk=evidence.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence = self.get_object()
        serializer = self.get_serializer(evidence, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.change_evidence(evidence.pk, by=request.user, request=request, **serializer.validated_data)
        except PermissionDenied as exc:
            return error_response(status.HTTP_403_FORBIDDEN, "permission_denied", str(exc))
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(EvidenceSerializer(evidence_queryset().get(pk=evidence.pk)).data)

    @extend_schema(
        summary="Download the file (as an attachment)",
        description="The file as uploaded, with the content type detected from its content (a PDF, an image, text...).",
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        evidence = self.get_object()
        if not evidence.file:
            return error_response(status.HTTP_404_NOT_FOUND, "not_found", "this evidence is a link or a note, not a file")
        services.record_download(evidence, by=request.user, request=request)
        return attachment(evidence)
