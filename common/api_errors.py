"""One JSON error shape at the API edge: {"error": "<short code>", "detail": ...}."""

from typing import Any

from rest_framework import exceptions, serializers, status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_411_LENGTH_REQUIRED: "length_required",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (common.schema documents it on every operation)."""

    error = serializers.CharField(help_text="A short code: invalid, parse_error, not_authenticated, permission_denied, "
                                  "not_found, conflict, too_large, length_required, unsupported_media_type, throttled...")
    detail = serializers.JSONField(help_text="A sentence, or an object naming each wrong field with the reason.")


def error_response(http_status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> Response:
    return Response({"error": error, "detail": detail}, status=http_status, headers=headers)


def _answer_errors_in_json(request: Any) -> None:
    """An error is JSON (or the browsable page), even when the request asked for CSV (`?format=csv`) or a PDF."""
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is not None and not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if (request := context.get("request")) is not None:
        _answer_errors_in_json(request)
    data = response.data
    if isinstance(data, dict) and "error" in data and "detail" in data:
        return response
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        if isinstance(exc, exceptions.ValidationError):
            error = "invalid"
        else:
            error = code if isinstance(code, str) else _CODES.get(response.status_code, "error")
        detail = data.get("detail", data) if isinstance(data, dict) and set(data) == {"detail"} else data
    else:
        error, detail = _CODES.get(response.status_code, "error"), data
    response.data = {"error": error, "detail": detail}
    return response


def server_error(request: Any, *args: Any, **kwargs: Any) -> Any:
    """handler500: the API answers JSON in its one error shape, pages get the HTML page."""
    from django.http import JsonResponse
    from django.views.defaults import server_error as html_server_error

    if request.path.startswith("/api/"):
        body = {"error": "server_error", "detail": "The server could not answer this request; it has been logged."}
        return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return html_server_error(request)


def api_not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """The last route under /api/v1/: a path no API route matches (an id of the wrong form, a typo) answers JSON 404."""
    from django.http import JsonResponse

    body = {"error": "not_found", "detail": f"No API endpoint matches {request.path!r}."}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
