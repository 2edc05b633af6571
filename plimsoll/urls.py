"""Site URLs. Each app has `urls.py` (HTML pages) and `api_urls.py` (its routes under /api/v1/)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from common.api_errors import api_not_found


class SwaggerView(SpectacularSwaggerView):
    # An HTML page: OPTIONS has no template to render (it answered 500), so only GET and HEAD are offered.
    http_method_names = ["get", "head"]


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
