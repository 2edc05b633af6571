"""API routes of compliance.audit, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from compliance.audit.api import AuditEventViewSet

router = SimpleRouter()
router.register("audit-log", AuditEventViewSet, basename="audit-log")
urlpatterns = router.urls
