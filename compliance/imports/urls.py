"""HTML pages of compliance.imports, mounted at /imports/."""

from django.urls import path

from compliance.imports.views import DockerBenchView, ImportsView

app_name = "imports"
urlpatterns = [
    path("", ImportsView.as_view(), name="imports"),
    path("docker-bench/<int:pk>/", DockerBenchView.as_view(), name="docker-bench"),
    path("docker-bench/host/<int:host_id>/", DockerBenchView.as_view(), name="docker-bench-host"),
]
