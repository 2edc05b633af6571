"""Report API: every role lists, reads and downloads; security managers and admins request. No update, no delete:
a report is evidence (PUT, PATCH and DELETE answer 405)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from common.api_errors import ErrorSerializer, error_response
from common.roles import ReadAnyRoleManageByManagers
from compliance.administration.limits import visible_reports
from compliance.reports import services
from compliance.reports.filters import ReportFilterSet
from compliance.reports.models import Report
from compliance.reports.serializers import ReportCreatedSerializer, ReportRequestSerializer, ReportSerializer

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


def report_queryset() -> QuerySet[Report]:
    return Report.objects.select_related("requested_by", "host")


def pdf_attachment(report: Report) -> FileResponse:
    """The signed PDF as a download with a name that says what it is; never inline, never sniffed."""
    response = FileResponse(report.file.open("rb"), as_attachment=True, filename=report.download_name,
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Report-SHA256"] = report.sha256
    return response


@extend_schema_view(
    list=extend_schema(summary="Reports, newest first"),
    retrieve=extend_schema(summary="One report: status, progress, sha256"),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportSerializer
    filterset_class = ReportFilterSet
    permission_classes = [ReadAnyRoleManageByManagers]
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["created_at", "finished_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Report]:
        # A limited auditor lists, reads and downloads only the reports of their frameworks and scope (404 otherwise).
        return visible_reports(report_queryset(), self.request.user)

    def get_serializer_class(self) -> type:
        return ReportRequestSerializer if self.action == "create" else ReportSerializer

    @extend_schema(
        summary="Request a report (rendered in the background)", request=ReportRequestSerializer,
        responses={202: ReportCreatedSerializer, **ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            report = services.request_report(by=request.user, request=request, **serializer.validated_data)
        except services.NotPermitted as exc:
            return error_response(status.HTTP_403_FORBIDDEN, "permission_denied", str(exc))
        except services.ReportError as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {exc.field: [exc.reason]})
        body = {"id": report.pk, "status": report.status, "url": reverse("report-detail", args=[report.pk])}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(summary="Download the signed PDF (as an attachment; audited)",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 409: ErrorSerializer})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        report = self.get_object()
        if not report.is_done:
            return error_response(status.HTTP_409_CONFLICT, "conflict", f"the report is {report.status}, not done")
        services.record_download(report, by=request.user, request=request)
        return pdf_attachment(report)
