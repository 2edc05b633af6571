"""HTML pages of the inventory app."""

from django.urls import path

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("hosts/<int:pk>/labels/", views.HostLabelsView.as_view(), name="host-labels"),
]
