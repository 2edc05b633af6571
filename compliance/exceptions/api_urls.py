"""API routes of compliance.exceptions, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from compliance.exceptions.api import RiskAcceptanceViewSet

router = SimpleRouter()
router.register("exceptions", RiskAcceptanceViewSet, basename="exception")
urlpatterns = router.urls
