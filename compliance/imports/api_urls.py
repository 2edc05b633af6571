"""API routes of compliance.imports, mounted under /api/v1/."""

from django.urls import path

from compliance.imports.api import CosignImportView, ImageStatusView, TrivyImportView

urlpatterns = [
    path("imports/trivy/", TrivyImportView.as_view(), name="import-trivy"),
    path("imports/cosign/", CosignImportView.as_view(), name="import-cosign"),
    path("imports/image-status/", ImageStatusView.as_view(), name="import-image-status"),
]
