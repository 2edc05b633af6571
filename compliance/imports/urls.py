"""HTML pages of compliance.imports, mounted at /imports/."""

from django.urls import path

from compliance.imports.views import ImportsView

app_name = "imports"
urlpatterns = [
    path("", ImportsView.as_view(), name="imports"),
]
