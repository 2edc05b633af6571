"""API routes of compliance.imports, mounted under /api/v1/."""

from django.urls import path

from compliance.imports.api import (
    CosignImportView,
    DockerBenchComparisonView,
    DockerBenchImportView,
    ImageStatusView,
    TrivyImportView,
)

urlpatterns = [
    path("imports/trivy/", TrivyImportView.as_view(), name="import-trivy"),
    path("imports/cosign/", CosignImportView.as_view(), name="import-cosign"),
    path("imports/docker-bench/", DockerBenchImportView.as_view(), name="import-docker-bench"),
    path("imports/docker-bench/<int:pk>/comparison/", DockerBenchComparisonView.as_view(),
         name="import-docker-bench-comparison"),
    path("imports/image-status/", ImageStatusView.as_view(), name="import-image-status"),
]
