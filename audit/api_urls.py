"""API routes of audit, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from audit.api import AuditEventViewSet

router = SimpleRouter()
router.register("audit-log", AuditEventViewSet, basename="audit-log")
urlpatterns = router.urls
