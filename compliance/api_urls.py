"""API routes of the compliance domain, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from compliance.api import EvaluationViewSet, ResultViewSet

router = SimpleRouter()
router.register("results", ResultViewSet)
router.register("evaluations", EvaluationViewSet)
urlpatterns = router.urls
