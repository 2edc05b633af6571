"""Site URLs. Each app has `urls.py` (HTML pages) and `api_urls.py` (its routes under /api/v1/)."""

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.template.loader import get_template
from django.urls import include, path, re_path
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from common.api_errors import api_not_found


def _inline_style_hashes(template_name: str) -> list[str]:
    """CSP hashes of the fixed <style> blocks of a library template (no template tags inside them)."""
    source = get_template(template_name).template.source
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(r"<style>(.*?)</style>", source, flags=re.S)
    ]


# The split view loads its start-up script from ?script (no inline script, as the site's CSP requires); its page
# keeps one fixed <style> block, allowed by its hash on this view alone (docs/security.md).
@method_decorator(csp_update({"style-src": _inline_style_hashes("drf_spectacular/swagger_ui.html")}), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    # An HTML page: OPTIONS has no template to render (it answered 500), so only GET and HEAD are offered.
    http_method_names = ["get", "head"]


# Redoc styles itself with <style> elements made at run time and searches in a Web Worker made from a blob: this
# page alone allows inline styles and blob: workers; scripts stay 'self' only (no REDOC_UI_SETTINGS, so drf-spectacular
# renders the <redoc spec-url> element, not an inline start-up script).
@method_decorator(csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}), name="dispatch")
class RedocView(SpectacularRedocView):
    http_method_names = ["get", "head"]


api_v1 = [
    path("", include("inventory.api_urls")),
    path("", include("frameworks.api_urls")),
    path("", include("compliance.api_urls")),
    path("", include("compliance.exceptions.api_urls")),
    path("", include("compliance.reports.api_urls")),
    path("", include("compliance.hosts.api_urls")),
    path("", include("compliance.evidence.api_urls")),
    path("", include("audit.api_urls")),
    path("", include("compliance.posture.api_urls")),
    path("", include("compliance.oscal.api_urls")),
    path("", include("compliance.imports.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    # Last: a path no API route matches answers the API's JSON 404, not Django's HTML page.
    re_path(r"^", api_not_found),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("frameworks/", include("frameworks.urls")),
    path("exceptions/", include("compliance.exceptions.urls")),
    path("evidence/", include("compliance.evidence.urls")),
    path("audit/", include("audit.urls")),
    path("posture/", include("compliance.posture.urls")),
    path("reports/", include("compliance.reports.urls")),
    path("administration/", include("compliance.administration.urls")),
    path("imports/", include("compliance.imports.urls")),
    path("", include("compliance.metrics.urls")),
    path("", include("compliance.dashboard.urls")),
    path("", include("compliance.hosts.urls")),
    path("", include("inventory.urls")),
]

handler500 = "common.api_errors.server_error"
