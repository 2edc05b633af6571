"""OSCAL API: /oscal/assessment-results/ and /oscal/poam/ for a framework, a scope and an as-of moment or a period.

Every role reads them (auditors too); a scoped account gets only its frameworks and its label scope, as on posture.
The answer is a JSON file to download, not a browsable page.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api_errors import ErrorSerializer, error_response
from common.scope import SelectorError
from compliance.administration.limits import limits_for
from compliance.oscal.params import PARAMETERS
from compliance.oscal.services import OscalError, export_from_params

_PARAMETERS = [
    OpenApiParameter("framework", str, required=True, pattern=r"^[a-z0-9][a-z0-9.-]*$",
                     description="Slug of a loaded framework, e.g. pci-dss-4.0.1 (the exact version is in the output)."),
    OpenApiParameter("scope", str, description="Label selector, e.g. pci=cde,env=prod; empty: every host. "
                     "A scoped account's own scope is ANDed with it."),
    OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="The posture as it stood then (a date means its end). "
                     "Not with a period."),
    OpenApiParameter("period_start", OpenApiTypes.DATETIME, description="Start of a period (a date means its start); "
                     "with period_end. The posture is judged at the period's end."),
    OpenApiParameter("period_end", OpenApiTypes.DATETIME, description="End of a period (a date means its end)."),
    OpenApiParameter("include_stopped", bool, description="Count stopped containers too (default: setting)."),
]


def _answer(request: Request, kind: str) -> HttpResponse | Response:
    params = {name: request.query_params.get(name) for name in PARAMETERS}
    limits = limits_for(request.user)
    slug = (params["framework"] or "").strip()
    if slug and not limits.allows(slug):
        return error_response(status.HTTP_403_FORBIDDEN, "permission_denied",
                              {"framework": f"this account may not read {slug!r}"})
    try:
        params["scope"] = limits.scope_with(params["scope"] or "")
    except SelectorError as exc:
        return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"scope": str(exc)})
    try:
        name, body = export_from_params(kind, params)
    except OscalError as exc:
        return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {exc.field: exc.reason})
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class AssessmentResultsView(APIView):
    @extend_schema(
        operation_id="oscal_assessment_results",
        summary="OSCAL assessment results of a framework over a scope, as of a moment or over a period",
        description="OSCAL 1.x JSON (compliance-trestle's models): an observation per CIS recommendation per host with "
                    "the snapshot's sha256 in back-matter, a finding per requirement (satisfied or not-satisfied), a "
                    "deviation-approved risk per exception, an EXAMINE observation per piece of evidence.",
        parameters=_PARAMETERS,
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The document, as a download "
                                                       "(Content-Disposition: attachment), root key assessment-results."),
            400: OpenApiResponse(ErrorSerializer, description="A parameter is wrong: `detail` names it and says why."),
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        return _answer(request, "assessment-results")


class PoamView(APIView):
    @extend_schema(
        operation_id="oscal_poam",
        summary="OSCAL plan of action and milestones from the failing requirements and the exceptions in force",
        description="OSCAL 1.x JSON (compliance-trestle's models): a POA&M item per failing requirement, with an open "
                    "risk per failing CIS recommendation, and one per exception in force (due at its expiry).",
        parameters=_PARAMETERS,
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The document, as a download "
                                                       "(Content-Disposition: attachment), root key "
                                                       "plan-of-action-and-milestones."),
            400: OpenApiResponse(ErrorSerializer, description="A parameter is wrong: `detail` names it and says why."),
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        return _answer(request, "poam")
