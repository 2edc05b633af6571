"""API routes of the estate lists, mounted under /api/v1/: the same rows and filters as /containers/ and /images/."""

from rest_framework.routers import SimpleRouter

from compliance.hosts.api import EstateContainerViewSet, EstateImageViewSet

router = SimpleRouter()
router.register("estate/containers", EstateContainerViewSet, basename="estate-container")
router.register("estate/images", EstateImageViewSet, basename="estate-image")
urlpatterns = router.urls
