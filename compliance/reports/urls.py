"""Report pages, mounted at /reports/."""

from django.urls import path

from compliance.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.ReportListView.as_view(), name="report-list"),
    path("<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("<int:pk>/download/", views.ReportDownloadView.as_view(), name="report-download"),
]
