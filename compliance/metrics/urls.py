"""/metrics, mounted at the site root."""

from django.urls import path

from compliance.metrics.views import metrics

urlpatterns = [
    path("metrics", metrics, name="metrics"),
]
