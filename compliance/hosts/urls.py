"""Host pages, mounted at /hosts/."""

from django.urls import path

from compliance.hosts import views

app_name = "hosts"
urlpatterns = [
    path("", views.HostListView.as_view(), name="host-list"),
    path("<int:pk>/", views.HostDetailView.as_view(), name="host-detail"),
]
