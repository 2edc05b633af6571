"""Report pages: the list with the request form and live progress, one report with its history, the download."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from audit.services import events_for
from common.roles import ReaderRequiredMixin, can_manage
from compliance.administration.limits import visible_reports
from compliance.reports import services
from compliance.reports.api import pdf_attachment, report_queryset
from compliance.reports.choices import ReportStatus
from compliance.reports.filters import ReportFilterSet
from compliance.reports.forms import ReportRequestForm
from compliance.reports.models import Report

PAGE_SIZE = 50
PREFILL = ("kind", "framework", "scope", "host", "as_of", "period_start", "period_end", "include_stopped")


class ReportListView(ReaderRequiredMixin, View):
    template_name = "reports/report_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # The posture pages link here with ?framework=...&scope=...&as_of=...: the form starts from those.
        initial = {key: request.GET[key] for key in PREFILL if request.GET.get(key)}
        if "framework" in initial and "kind" not in initial:
            initial["kind"] = "framework"
        return self._render(request, ReportRequestForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        if not can_manage(request.user):
            return self._render(request, None, status=403, error="Your role does not allow requesting reports.")
        form = ReportRequestForm(request.POST)
        if form.is_valid():
            try:
                report = services.request_report(by=request.user, request=request, **form.request_params())
            except services.NotPermitted as exc:
                return self._render(request, form, status=403, error=str(exc))
            except services.ReportError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                messages.success(request, f"Report {report.pk} queued; it renders in the background.")
                return redirect("reports:report-list")
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: ReportRequestForm | None, status: int = 200,
                error: str = "") -> HttpResponse:
        filterset = ReportFilterSet(request.GET, queryset=visible_reports(report_queryset(), request.user))
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, self.template_name, {
            "form": form if can_manage(request.user) else None, "page": page, "filter": filterset, "error": error,
            "active": [ReportStatus.QUEUED, ReportStatus.RUNNING],
        }, status=status)


class ReportDetailView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = get_object_or_404(visible_reports(report_queryset(), request.user), pk=pk)
        context: dict[str, Any] = {"report": report, "audit_events": events_for(report)[:200],
                                   "active": [ReportStatus.QUEUED, ReportStatus.RUNNING]}
        return render(request, "reports/report_detail.html", context)


class ReportDownloadView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        # A report outside a limited auditor's frameworks and scope is not theirs to read: 404, as if absent.
        report = get_object_or_404(visible_reports(Report.objects.all(), request.user), pk=pk)
        if not report.is_done:
            raise Http404("this report is not rendered (yet)")
        services.record_download(report, by=request.user, request=request)
        return pdf_attachment(report)
