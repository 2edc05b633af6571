"""API routes of compliance.oscal, mounted under /api/v1/."""

from django.urls import path

from compliance.oscal.api import AssessmentResultsView, PoamView

urlpatterns = [
    path("oscal/assessment-results/", AssessmentResultsView.as_view(), name="oscal-assessment-results"),
    path("oscal/poam/", PoamView.as_view(), name="oscal-poam"),
]
