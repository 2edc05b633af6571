"""Exceptions API: request, change (while requested), approve, reject, revoke. Never deleted: revoke instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from common.api_errors import ErrorSerializer, error_response
from common.roles import ReadAnyRoleManageByManagers
from compliance.administration.limits import visible_exceptions
from compliance.exceptions import services
from compliance.exceptions.filters import RiskAcceptanceFilterSet
from compliance.exceptions.models import (
    FourEyesViolation,
    NotPermitted,
    RevisionMismatch,
    RiskAcceptance,
    TransitionNotAllowed,
)
from compliance.exceptions.serializers import ApprovalSerializer, DecisionSerializer, RiskAcceptanceSerializer

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
DECISION_RESPONSES = {200: RiskAcceptanceSerializer, **ERRORS}


def domain_call(call: Callable[[], RiskAcceptance], ok_status: int = status.HTTP_200_OK) -> Response:
    """Run a service call and translate the domain exceptions into the API's error bodies."""
    try:
        exception = call()
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}) from exc
    except FourEyesViolation as exc:
        return error_response(status.HTTP_403_FORBIDDEN, "four_eyes", str(exc))
    except NotPermitted as exc:
        return error_response(status.HTTP_403_FORBIDDEN, "permission_denied", str(exc))
    except RevisionMismatch as exc:
        return error_response(
            status.HTTP_409_CONFLICT, "revision_changed", {"revision": str(exc), "current": exc.current, "named": exc.named}
        )
    except TransitionNotAllowed as exc:
        return error_response(
            status.HTTP_409_CONFLICT, "invalid_transition", {"status": exc.current, "action": exc.wanted, "reason": str(exc)}
        )
    return Response(RiskAcceptanceSerializer(exception).data, status=ok_status)


@extend_schema_view(
    list=extend_schema(summary="Exceptions (risk acceptances), newest first"),
    retrieve=extend_schema(summary="One exception"),
    create=extend_schema(summary="Request an exception", responses={201: RiskAcceptanceSerializer, **ERRORS}),
    partial_update=extend_schema(summary="Change a requested exception", responses={200: RiskAcceptanceSerializer, **ERRORS}),
)
class RiskAcceptanceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = RiskAcceptanceSerializer
    filterset_class = RiskAcceptanceFilterSet
    permission_classes = [ReadAnyRoleManageByManagers]
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["requested_at", "expires_at", "control", "id"]
    ordering = ["-requested_at", "-id"]

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        # A time-limited auditor limited to frameworks or a label scope sees the exceptions of those only.
        return visible_exceptions(RiskAcceptance.objects.select_related(
            "requested_by", "approved_by", "rejected_by", "revoked_by", "scope_host"), self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return domain_call(lambda: services.request_exception(by=request.user, request=request, **data), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        exception = self.get_object()
        serializer = self.get_serializer(exception, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return domain_call(lambda: services.change_exception(exception.pk, by=request.user, request=request, **data))

    def _decision(
        self, request: Request, decide: Callable[..., RiskAcceptance], text_argument: str = "note",
        serializer_class: type[DecisionSerializer] = DecisionSerializer,
    ) -> Response:
        exception = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = {text_argument: serializer.validated_data["note"]}
        if "revision" in serializer.validated_data:
            arguments["revision"] = serializer.validated_data["revision"]
        return domain_call(lambda: decide(exception.pk, by=request.user, request=request, **arguments))

    @extend_schema(
        summary="Approve the revision you reviewed (never by the requester)", request=ApprovalSerializer,
        responses=DECISION_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decision(request, services.approve_exception, serializer_class=ApprovalSerializer)

    @extend_schema(summary="Reject (never by the requester)", request=DecisionSerializer, responses=DECISION_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decision(request, services.reject_exception)

    @extend_schema(summary="Revoke an approved exception", request=DecisionSerializer, responses=DECISION_RESPONSES)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._decision(request, services.revoke_exception, text_argument="reason")
