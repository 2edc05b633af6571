"""Response headers every page and API answer carries."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse

# Plimsoll uses no camera, microphone, location, payment or other powerful browser feature: deny them all.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()" for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen", "geolocation",
        "gyroscope", "magnetometer", "microphone", "midi", "payment", "picture-in-picture", "publickey-credentials-get",
        "screen-wake-lock", "sync-xhr", "usb", "xr-spatial-tracking",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def _sha256_source(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


# DRF's browsable API page and its filter and pagination parts (rest_framework/ and django_filters/ templates) use
# fixed style attributes (`style="float: right"`), and print Pygments' stylesheet for code blocks in a <style> element:
# CSP allows exactly these (by their hashes, read from the installed templates) on browsable API pages, nowhere else.
_FIXED_STYLE_ATTRIBUTE = re.compile(r'style="([^"{}]*)"')


def browsable_api_style_attributes() -> list[str]:
    import django_filters
    import rest_framework

    values: set[str] = set()
    for package in (rest_framework, django_filters):
        for template in sorted((Path(package.__file__).parent / "templates").rglob("*.html")):
            values.update(_FIXED_STYLE_ATTRIBUTE.findall(template.read_text(encoding="utf-8")))
    return sorted(values)


@functools.cache
def browsable_api_style_sources() -> list[str]:
    from django.utils.html import escape
    from rest_framework.compat import pygments_css
    from rest_framework.renderers import BrowsableAPIRenderer

    sources = ["'unsafe-hashes'", *(_sha256_source(v) for v in browsable_api_style_attributes())]
    if code_style := pygments_css(BrowsableAPIRenderer.code_style):
        sources.append(_sha256_source(escape(code_style)))  # printed with {{ code_style }}, so autoescaped
    return sources


class BrowsableAPIContentSecurityMiddleware:
    """Relaxes the Content-Security-Policy of a browsable API page by the hashes of DRF's fixed inline styles.

    Settings: MIDDLEWARE lists it after "csp.middleware.CSPMiddleware" (so its mark is read when CSP builds the header).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.style_sources = browsable_api_style_sources()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        renderer = getattr(response, "accepted_renderer", None)
        if renderer is not None and getattr(renderer, "format", None) == "api" and not hasattr(response, "_csp_update"):
            response._csp_update = {"style-src": list(self.style_sources)}  # type: ignore[attr-defined]
        return response
