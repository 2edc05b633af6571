"""API routes of compliance.posture, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from compliance.posture.api import AssessmentViewSet, PostureRecordViewSet, PostureView

router = SimpleRouter()
router.register("assessments", AssessmentViewSet)
router.register("posture-records", PostureRecordViewSet)
urlpatterns = [
    path("posture/<str:slug>/", PostureView.as_view(), name="posture"),
    *router.urls,
]
