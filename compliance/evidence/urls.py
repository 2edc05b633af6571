"""HTML pages of compliance.evidence, mounted at /evidence/."""

from django.urls import path

from compliance.evidence import views

app_name = "evidence"
urlpatterns = [
    path("", views.EvidenceListView.as_view(), name="evidence-list"),
    path("new/", views.EvidenceUploadView.as_view(), name="evidence-create"),
    path("<int:pk>/", views.EvidenceDetailView.as_view(), name="evidence-detail"),
    path("<int:pk>/download/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
]
