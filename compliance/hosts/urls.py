"""Estate pages: hosts, their snapshots, containers and images, each CIS recommendation across the estate."""

from django.urls import path

from compliance.hosts import views

app_name = "hosts"
urlpatterns = [
    path("hosts/", views.HostListView.as_view(), name="host-list"),
    path("hosts/<int:pk>/", views.HostDetailView.as_view(), name="host-detail"),
]
