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
from common.roles import ManagerRequiredMixin, ReaderRequiredMixin, can_manage
from compliance.evidence import services
from compliance.evidence.api import attachment, evidence_queryset
from compliance.evidence.choices import EvidenceKind
from compliance.evidence.filetypes import UploadRejected
from compliance.evidence.filters import EvidenceFilterSet
from compliance.evidence.forms import EvidenceForm
from compliance.evidence.models import Evidence


class EvidenceListView(ReaderRequiredMixin, ListView):
    template_name = "evidence/evidence_list.html"
    context_object_name = "evidence_list"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[Evidence]:
        self.filterset = EvidenceFilterSet(self.request.GET, queryset=evidence_queryset().order_by("-uploaded_at", "-id"))
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(filter=self.filterset, kinds=EvidenceKind.choices, can_manage=can_manage(self.request.user))
        return context


class EvidenceUploadView(ManagerRequiredMixin, View):
    template_name = "evidence/evidence_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = EvidenceForm(initial={"requirements": request.GET.get("requirements", "")})
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
        return evidence_queryset()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["audit_events"] = events_for(self.object)
        return context


class EvidenceDownloadView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        evidence = get_object_or_404(Evidence, pk=pk)
        if not evidence.file:
            raise Http404("this evidence has no file")
        services.record_download(evidence, by=request.user, request=request)
        return attachment(evidence)
