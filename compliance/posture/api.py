"""Posture API: /posture/{framework slug}/?scope=...&as_of=...&include_stopped=..., assessments and the daily records."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api_errors import ErrorSerializer, error_response
from common.scope import SelectorError
from compliance.administration.limits import limits_for
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.serializers import AssessmentSerializer, PostureRecordSerializer, PostureSerializer
from compliance.posture.services import PostureError, compute_posture


def parse_as_of(value: str | None) -> datetime.datetime | None:
    """An RFC 3339 timestamp, or a date (meaning the end of that day, UTC); raises PostureError."""
    if not value:
        return None
    try:
        # A plain date first: Python 3.11's parse_datetime reads "2026-11-30" as its midnight, not its end.
        day = parse_date(value)
        moment = parse_datetime(value) if day is None else None
    except ValueError:
        raise PostureError("as_of", f"not a real date or time: {value!r}") from None
    if moment is None:
        if day is None:
            raise PostureError("as_of", f"expected a date (2026-11-30) or an RFC 3339 time, got {value!r}")
        moment = datetime.datetime.combine(day, datetime.time.max)
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        moment.astimezone(datetime.UTC)  # an offset that moves year 1 or 9999 out of range
    except (OverflowError, ValueError):
        raise PostureError("as_of", f"out of range: {value!r}") from None
    return moment


def parse_bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise PostureError(name, f"expected true or false, got {value!r}")


class PostureView(APIView):
    @extend_schema(
        summary="Status of each requirement of a framework over the hosts in scope",
        parameters=[
            OpenApiParameter("scope", str, description="Label selector, e.g. pci=cde,env=prod; empty: every host. "
                             "A scoped account's own scope is ANDed with it."),
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="The posture as it stood then (a date means its end)."),
            OpenApiParameter("include_stopped", bool, description="Count stopped containers too (default: setting)."),
        ],
        responses={200: PostureSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        # A limited account (a scoped auditor) reads only its frameworks, and only the hosts of its label scope.
        limits = limits_for(request.user)
        if not limits.allows(slug):
            return error_response(status.HTTP_403_FORBIDDEN, "permission_denied",
                                  {"framework": f"this account may not read {slug!r}"})
        try:
            scope = limits.scope_with(request.query_params.get("scope", ""))
        except SelectorError as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"scope": str(exc)})
        try:
            posture = compute_posture(
                slug,
                scope=scope,
                as_of=parse_as_of(request.query_params.get("as_of")),
                include_stopped=parse_bool(request.query_params.get("include_stopped"), "include_stopped"),
            )
        except PostureError as exc:
            code = status.HTTP_404_NOT_FOUND if exc.field == "framework" else status.HTTP_400_BAD_REQUEST
            return error_response(code, "not_found" if code == 404 else "invalid", {exc.field: exc.reason})
        return Response(PostureSerializer.from_posture(posture))


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Assessment.objects.all()
    serializer_class = AssessmentSerializer
    filterset_fields = ["framework_slug"]
    ordering = ["framework_slug", "name"]


class PostureRecordViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = PostureRecord.objects.all()
    serializer_class = PostureRecordSerializer
    filterset_fields = ["framework_slug", "selector", "day"]
    ordering = ["framework_slug", "selector", "-day"]

