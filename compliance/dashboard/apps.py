from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The dashboard has no models: it is an app so that its template library (templatetags/) is found, and the
    place that tells the audit pages which events, and the inventory API which hosts, a limited auditor reads (neither
    app imports the compliance domain)."""

    name = "compliance.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from audit.views import set_event_filter
        from compliance.administration.limits import readable_host_ids, visible_events
        from inventory.access import register_readable_hosts

        set_event_filter(visible_events)
        register_readable_hosts(readable_host_ids)
