"""HTML pages of the audit trail: the log with filters, exported as CSV or XLSX with the same filters.

Which events a user may read is not the audit app's to know (it imports only `common`): `visible_events` narrows the
log for the user, and the site sets it once at start (compliance.dashboard.apps: a limited auditor reads only the
events about their frameworks and hosts, compliance.administration.limits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.generic import ListView, View

from audit.choices import AuditAction
from audit.export import csv_response, export
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent
from common.exports import ExportFormatError
from common.roles import ReaderRequiredMixin

EventFilter = Callable[[QuerySet[AuditEvent], Any], QuerySet[AuditEvent]]


def _every_event(queryset: QuerySet[AuditEvent], user: Any) -> QuerySet[AuditEvent]:
    return queryset


# (queryset, user) -> the events of queryset that user may read.
visible_events: EventFilter = _every_event


def set_event_filter(rule: EventFilter) -> None:
    """Set the rule of which events a user reads (called once, when the apps are ready)."""
    global visible_events
    visible_events = rule


def readable_events(user: Any) -> QuerySet[AuditEvent]:
    return visible_events(AuditEvent.objects.all(), user)


class AuditEventListView(ReaderRequiredMixin, ListView):
    """The audit log; `?export=csv|xlsx` exports every event the same filters select, unpaginated."""

    template_name = "audit/auditevent_list.html"
    context_object_name = "events"
    paginate_by = 100
    export_error = ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if fmt := request.GET.get("export"):
            try:
                return export(self.get_queryset(), fmt)
            except ExportFormatError as exc:
                self.export_error = str(exc)
                response = super().get(request, *args, **kwargs)
                response.status_code = 400
                return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        queryset = readable_events(self.request.user).select_related("content_type").order_by("-timestamp", "-id")
        self.filterset = AuditEventFilterSet(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["actions"] = AuditAction.choices
        context["export_error"] = self.export_error
        query = self.request.GET.copy()
        for key in ("page", "export"):
            query.pop(key, None)
        context["query"] = query.urlencode()
        return context


class AuditEventExportView(ReaderRequiredMixin, View):
    """/audit/export/: the CSV export under its older address, kept for links and scripts that use it."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        filterset = AuditEventFilterSet(request.GET, queryset=readable_events(request.user).order_by("-timestamp", "-id"))
        return csv_response(filterset.qs)
