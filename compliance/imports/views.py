"""The imports page: upload a Trivy scan, a Cosign verification or a docker-bench log (managers), and the list of
imports (every role); a docker-bench run beside Plimsoll's verdicts, per host."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View

from common.roles import ReaderRequiredMixin, can_manage
from compliance.administration.limits import readable_host_ids
from compliance.engine import Policy, PolicyError
from compliance.imports.bench import compare
from compliance.imports.choices import ImportKind
from compliance.imports.models import BenchRun, ImportedFile
from compliance.imports.parsers import ImportRejected
from compliance.imports.services import NotPermitted, import_evidence, max_import_bytes, scan_verdict
from compliance.models import SitePolicy

LIST_LIMIT = 100


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    file = forms.FileField(help_text="trivy image --format json, cosign verify --output json / verify-attestation, or "
                           "the JSON log docker-bench-security -l writes")
    identity = forms.CharField(required=False, max_length=512,
                               help_text="Cosign: the --certificate-identity (or key) the verification required.")
    issuer = forms.CharField(required=False, max_length=512, help_text="Cosign: the --certificate-oidc-issuer.")
    host = forms.CharField(required=False, max_length=255, help_text="docker-bench: the host it ran on (hostname or id).")


class ImportsView(ReaderRequiredMixin, View):
    template_name = "imports/imports.html"

    def render_page(self, request: HttpRequest, form: ImportForm, status: int = 200) -> HttpResponse:
        imports = list(ImportedFile.objects.select_related("imported_by", "scan", "bench__host")
                       .prefetch_related("signatures")
                       .defer("content").order_by("-imported_at", "-id")[:LIST_LIMIT])
        try:
            policy = Policy.from_dict(SitePolicy.current_data())
        except PolicyError:
            policy = Policy()
        now = timezone.now()
        # What each scan says of its image now, under the active site policy (CIS 4.4).
        for item in imports:
            item.decision = scan_verdict(item.scan, policy, now) if item.kind == ImportKind.TRIVY else None
        context = {"form": form, "imports": imports, "can_manage": can_manage(request.user)}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(request, ImportForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage(request.user):
            return self.render_page(request, ImportForm(), status=403)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(request, form, status=400)
        upload = form.cleaned_data["file"]
        if upload.size > max_import_bytes():
            form.add_error("file", f"larger than {max_import_bytes()} bytes")
            return self.render_page(request, form, status=400)
        try:
            result = import_evidence(form.cleaned_data["kind"], upload.read(), by=request.user, name=upload.name or "",
                                     identity=form.cleaned_data["identity"], issuer=form.cleaned_data["issuer"],
                                     host=form.cleaned_data["host"], request=request)
        except ImportRejected as exc:
            target = exc.field if exc.field in ("identity", "kind", "host") else "file"
            form.add_error(target, f"{exc.field}: {exc.reason}" if target == "file" else exc.reason)
            return self.render_page(request, form, status=400)
        except NotPermitted:
            return self.render_page(request, ImportForm(), status=403)
        stored = result.file
        word = "Imported" if result.created else "Already imported"
        messages.success(request, f"{word}: {stored} (sha256 {stored.sha256[:16]}...)")
        return redirect("imports:imports")


class DockerBenchView(ReaderRequiredMixin, View):
    """One docker-bench run (`pk`: its import) or a host's newest (`host_id`) beside Plimsoll's verdicts."""

    template_name = "imports/docker_bench.html"

    def get(self, request: HttpRequest, pk: int | None = None, host_id: int | None = None) -> HttpResponse:
        runs = BenchRun.objects.select_related("source", "host")
        readable = readable_host_ids(request.user)
        if readable is not None:
            runs = runs.filter(host_id__in=sorted(readable))
        if pk is not None:
            run = get_object_or_404(runs, source_id=pk)
        else:
            run = runs.filter(host_id=host_id).order_by("-started_at", "-id").first()
            if run is None:
                raise Http404("no docker-bench run imported for this host")
        comparison = compare(run)
        others = list(runs.filter(host_id=run.host_id).exclude(pk=run.pk).order_by("-started_at", "-id")
                      .values("source_id", "started_at", "version")[:20])
        only = request.GET.get("only") == "differ"
        rows = comparison.differing if only else comparison.rows
        return render(request, self.template_name, {"c": comparison, "rows": rows, "only_differ": only,
                                                    "others": others})
