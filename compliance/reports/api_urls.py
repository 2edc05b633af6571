"""Report API routes, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from compliance.reports.api import ReportViewSet

router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")
urlpatterns = router.urls
