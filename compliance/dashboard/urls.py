"""Dashboard pages, mounted at /; /favicon.ico, which browsers ask for whatever the page says, is there too."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from compliance.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("favicon.ico", RedirectView.as_view(url=static("plimsoll/favicon.ico")), name="favicon"),
]
