"""API routes of the inventory app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from inventory.api import ContainerViewSet, HostViewSet, ImageViewSet, SnapshotViewSet

router = SimpleRouter()
router.register("hosts", HostViewSet)
router.register("snapshots", SnapshotViewSet)
router.register("containers", ContainerViewSet)
router.register("images", ImageViewSet)
urlpatterns = router.urls
