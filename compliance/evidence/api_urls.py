"""API routes of compliance.evidence, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from compliance.evidence.api import EvidenceViewSet

router = SimpleRouter()
router.register("evidence", EvidenceViewSet, basename="evidence")
urlpatterns = router.urls
