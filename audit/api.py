"""Audit log API: read-only, filterable, exportable as CSV (`?format=csv` or /audit-log/export/)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit.export import csv_response
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent
from audit.serializers import AuditEventSerializer
from audit.views import readable_events
from common.csv import CSVRenderer
from common.roles import AnyRole


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first. No create, change or delete: those answer 405."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    permission_classes = [AnyRole]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    ordering_fields = ["timestamp", "id"]
    ordering = ["-timestamp", "-id"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        # A time-limited auditor limited to frameworks or a label scope reads the events about those only (the rule
        # the site sets at start, audit.views.set_event_filter).
        return readable_events(self.request.user)

    @extend_schema(summary="Audit events; `?format=csv` streams every matching row as CSV")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response | StreamingHttpResponse:
        if request.accepted_renderer.format == "csv":
            return self.export(request)
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Every matching audit event as CSV", responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> StreamingHttpResponse:
        return csv_response(self.filter_queryset(self.get_queryset()))
