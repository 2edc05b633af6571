"""HTML pages of the inventory app."""

from django.urls import path
from django.views.generic import RedirectView

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="hosts:host-list"), name="home"),
    path("hosts/<int:pk>/labels/", views.HostLabelsView.as_view(), name="host-labels"),
]
