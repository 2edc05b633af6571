from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The dashboard has no models: it is an app so that its template library (templatetags/) is found."""

    name = "compliance.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
