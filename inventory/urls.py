"""HTML pages of the inventory app."""

from django.urls import path
from django.views.generic import RedirectView

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inventory:host-list"), name="home"),
    path("hosts/", views.HostListView.as_view(), name="host-list"),
    path("hosts/<int:pk>/", views.HostDetailView.as_view(), name="host-detail"),
    path("hosts/<int:pk>/labels/", views.HostLabelsView.as_view(), name="host-labels"),
]
