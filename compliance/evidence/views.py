"""HTML pages of the evidence: the list, the upload form, one piece with its history, and its download."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView, ListView

from audit.services import events_for
from common.exports import ExportFormatError, export_response
from common.roles import ManagerRequiredMixin, ReaderRequiredMixin, can_manage
from compliance.administration.limits import visible_evidence
from compliance.evidence import services
from compliance.evidence.api import attachment, evidence_queryset
from compliance.evidence.choices import EvidenceKind
from compliance.evidence.filetypes import UploadRejected
from compliance.evidence.filters import EvidenceFilterSet
from compliance.evidence.forms import EvidenceForm, prefill
from compliance.evidence.models import Evidence


class EvidenceListView(ReaderRequiredMixin, ListView):
    """The evidence register; `?export=csv|xlsx` exports every row the same filters select, unpaginated."""

    template_name = "evidence/evidence_list.html"
    context_object_name = "evidence_list"
    paginate_by = 100
    export_error = ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if fmt := request.GET.get("export"):
            try:
                return export_response(fmt, "plimsoll-evidence", EXPORT_HEADER, map(export_row, self.get_queryset()), "Evidence")
            except ExportFormatError as exc:
                self.export_error = str(exc)
                response = super().get(request, *args, **kwargs)
                response.status_code = 400
                return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Evidence]:
        # A limited auditor reads the evidence about their frameworks and hosts only (limits.Visibility).
        queryset = visible_evidence(evidence_queryset(), self.request.user).order_by("-uploaded_at", "-id")
        self.filterset = EvidenceFilterSet(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for key in ("page", "export"):
            query.pop(key, None)
        context.update(
            filter=self.filterset, kinds=EvidenceKind.choices, can_manage=can_manage(self.request.user),
            query=query.urlencode(), export_error=self.export_error,
        )
        return context


EXPORT_HEADER = [
    "id", "title", "kind", "attests", "scope", "collected_at", "valid_until", "validity", "uploaded_by", "uploaded_at",
    "sha256", "url", "description",
]


def export_row(e: Evidence) -> list[Any]:
    """One piece of evidence as the register exports it: the columns the page shows, then what identifies it."""
    attests = [f"{r.framework.slug}:{r.ref_id}" for r in e.requirements.all()]
    return [
        e.pk, e.title, e.get_kind_display(), attests, e.scope_display, e.collected_at, e.valid_until, e.validity_label,
        e.uploaded_by.username, e.uploaded_at, e.sha256, e.url, e.description,
    ]


class EvidenceUploadView(ManagerRequiredMixin, View):
    template_name = "evidence/evidence_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # Prefilled from a manual row of a drill-down: the requirements it attests and the host it covers.
        form = EvidenceForm(initial=prefill(request.GET))
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                evidence = services.upload_evidence(by=request.user, request=request, **form.cleaned_data)
            except UploadRejected as exc:
                form.add_error("file", exc.reason)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Evidence \"{evidence.title}\" stored (sha256 {evidence.sha256[:12] or '—'}).")
                return redirect(evidence)
        return render(request, self.template_name, {"form": form}, status=400)


class EvidenceDetailView(ReaderRequiredMixin, DetailView):
    template_name = "evidence/evidence_detail.html"
    context_object_name = "evidence"

    def get_queryset(self) -> QuerySet[Evidence]:
        return visible_evidence(evidence_queryset(), self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["audit_events"] = events_for(self.object)
        return context


class EvidenceDownloadView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        evidence = get_object_or_404(visible_evidence(Evidence.objects.all(), request.user), pk=pk)
        if not evidence.file:
            raise Http404("this evidence has no file")
        services.record_download(evidence, by=request.user, request=request)
        return attachment(evidence)
