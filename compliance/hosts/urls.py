"""Estate pages: hosts, their snapshots, containers and images, each CIS recommendation across the estate."""

from django.urls import path

from compliance.hosts import estate_views, recommendation_views, snapshot_views, views

app_name = "hosts"
urlpatterns = [
    path("hosts/", views.HostListView.as_view(), name="host-list"),
    path("hosts/<int:pk>/", views.HostDetailView.as_view(), name="host-detail"),
    path("snapshots/<int:pk>/", snapshot_views.SnapshotDetailView.as_view(), name="snapshot-detail"),
    path("snapshots/<int:pk>/diff/", snapshot_views.SnapshotCompareView.as_view(), name="snapshot-compare"),
    path("snapshots/<int:before>/diff/<int:after>/", snapshot_views.SnapshotDiffView.as_view(), name="snapshot-diff"),
    path("containers/", estate_views.ContainerListView.as_view(), name="container-list"),
    path("images/", estate_views.ImageListView.as_view(), name="image-list"),
    path("controls/<str:control>/", recommendation_views.RecommendationView.as_view(), name="recommendation-detail"),
]
