"""The OpenAPI schema: the AutoSchema every API view uses and the post-processing hook of drf-spectacular.

Every operation documents the error answers it can give, in the API's one error shape (common.api_errors):
401, 403 and 429 everywhere; 400 where a body or a query parameter can be wrong; 404 where a path names an object or a
list has pages; 415 where there is a body. Views add what is particular to them (409, 413, 411) with extend_schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from common.api_errors import ErrorSerializer

# The slug of a catalog (framework or crosswalk): the last segment of its URN, e.g. cis-docker-1.6.0, pci-dss-4.0.1.
# frameworks.loader reads URNs with the same rule; Django's SlugField pattern refuses the dots.
CATALOG_SLUG_PATTERN = r"^[a-z0-9][a-z0-9.-]*$"
SLUG_PATH_PARAMETERS = {"slug", "framework_slug"}

ERROR_DESCRIPTIONS = {
    "400": "The request is wrong: `detail` names each wrong field (or parameter) and the reason.",
    "401": "No credentials, or credentials that are unknown, revoked or expired.",
    "403": "Authenticated, but the role or the token does not allow this.",
    "404": "No such object (or no page with that number).",
    "411": "A body of unknown length: send Content-Length.",
    "413": "The body is over the size limit.",
    "415": "A Content-Type this operation does not read.",
    "429": "Too many requests: `Retry-After` says in how many seconds to try again.",
}
_HEADERS = {
    "401": {"WWW-Authenticate": "The authentication scheme to use (Token, or Bearer for agents)."},
    "429": {"Retry-After": "Seconds to wait before the next request."},
}


@extend_schema_field({"type": "string", "pattern": CATALOG_SLUG_PATTERN, "maxLength": 150})
class CatalogSlugField(serializers.CharField):
    """A catalog slug as stored (read-only in the API): `pci-dss-4.0`, `cis-docker-1.6.0`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, adding the error answers and the slug patterns every operation shares."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            if parameter.get("in") == "path" and parameter.get("name") in SLUG_PATH_PARAMETERS:
                parameter["schema"] = {**parameter.get("schema", {}), "type": "string", "pattern": CATALOG_SLUG_PATTERN}
        responses = operation["responses"]
        for code in self.error_status_codes(operation):
            if code not in responses:
                responses[code] = self._error_response(code)
        return operation

    def error_status_codes(self, operation: dict[str, Any]) -> list[str]:
        places = {parameter.get("in") for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        codes = ["401", "403", "429"]
        if has_body or "query" in places:
            codes.append("400")
        if "path" in places or self._get_paginator() is not None and self._is_list_view():
            codes.append("404")
        if has_body:
            codes.append("415")
        return sorted(codes)

    def _error_response(self, code: str) -> dict[str, Any]:
        response = self._get_response_for_code(
            OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code, media_types=["application/json"]
        )
        if code in _HEADERS:
            response["headers"] = {
                name: {"schema": {"type": "string"}, "description": text} for name, text in _HEADERS[code].items()
            }
        return response

    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        # A serializer whose fields read one shape and write another (split_request_component = True) gets its own
        # request component, so each direction documents what it really takes and gives.
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if direction == "request" and getattr(serializer, "split_request_component", False) and not name.endswith("Request"):
            name = f"{name}Request"
        return name


def postprocess_schema(result, generator, request, public):  # noqa: ANN001, ANN201 (drf-spectacular's hook signature)
    return result
