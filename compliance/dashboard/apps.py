from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The dashboard has no models: it is an app so that its template library (templatetags/) is found, and the
    place that tells the audit pages which events a limited auditor reads (the audit app imports no project app)."""

    name = "compliance.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from audit.views import set_event_filter
        from compliance.administration.limits import visible_events

        set_event_filter(visible_events)
