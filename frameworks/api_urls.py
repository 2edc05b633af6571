"""API routes of the frameworks app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from frameworks.api import CrosswalkViewSet, FrameworkViewSet, MappingViewSet, RequirementViewSet

router = SimpleRouter()
router.register("frameworks", FrameworkViewSet, basename="framework")
router.register(r"frameworks/(?P<framework_slug>[^/]+)/requirements", RequirementViewSet, basename="requirement")
router.register("crosswalks", CrosswalkViewSet, basename="crosswalk")
router.register("mappings", MappingViewSet, basename="mapping")
urlpatterns = router.urls
