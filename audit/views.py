"""HTML pages of the audit trail: the log with filters, exported as CSV or XLSX with the same filters."""

from __future__ import annotations

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
        queryset = AuditEvent.objects.select_related("content_type").order_by("-timestamp", "-id")
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
        filterset = AuditEventFilterSet(request.GET, queryset=AuditEvent.objects.order_by("-timestamp", "-id"))
        return csv_response(filterset.qs)
