"""HTML pages of the audit trail: the log with filters, and its CSV export."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.views.generic import ListView, View

from audit.choices import AuditAction
from audit.export import csv_response
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent
from common.roles import ReaderRequiredMixin


class AuditEventListView(ReaderRequiredMixin, ListView):
    template_name = "audit/auditevent_list.html"
    context_object_name = "events"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[AuditEvent]:
        queryset = AuditEvent.objects.select_related("content_type").order_by("-timestamp", "-id")
        self.filterset = AuditEventFilterSet(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["actions"] = AuditAction.choices
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
        return context


class AuditEventExportView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        filterset = AuditEventFilterSet(request.GET, queryset=AuditEvent.objects.order_by("-timestamp", "-id"))
        return csv_response(filterset.qs)
