"""The site policy as a form (one field per setting), and the re-judging of stored snapshots it offers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from audit.services import events_for
from common.roles import AdminRequiredMixin
from compliance.administration import services
from compliance.administration.forms import SitePolicyForm
from compliance.administration.models import Rejudge
from compliance.engine import PolicyError
from compliance.models import SitePolicy


def _context(form: SitePolicyForm, **extra: Any) -> dict[str, Any]:
    policy = services.active_policy()
    return {
        "form": form, "policy": policy, "others": SitePolicy.objects.filter(is_active=False).order_by("name"),
        "running": services.running_rejudge(), "latest": Rejudge.objects.select_related("requested_by").first(),
        "to_rejudge": len(services.snapshots_to_rejudge()),
        "audit_events": events_for(policy)[:20] if policy else [],
        **extra,
    }


class SitePolicyView(AdminRequiredMixin, View):
    template_name = "administration/policy.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        policy = services.active_policy()
        form = SitePolicyForm(initial=SitePolicyForm.initial_from(policy.data if policy else {}))
        return render(request, self.template_name, _context(form))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SitePolicyForm(request.POST)
        if form.is_valid():
            try:
                policy, changed = services.save_site_policy(form.policy_data(), by=request.user, request=request)
            except PolicyError as exc:
                # The form checked each field; a document-level refusal of the engine still lands on the page.
                form.add_error(None, str(exc))
            else:
                if changed:
                    messages.success(request, f"Site policy {policy.name!r} saved. Stored results were judged with the "
                                              "previous policy: re-judge them so pages and results agree with this one.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("administration:policy")
        return render(request, self.template_name, _context(form), status=400)


class PolicyActivateView(AdminRequiredMixin, View):
    """POST: make another stored policy the one that applies."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        policy = get_object_or_404(SitePolicy, pk=pk)
        services.activate_policy(policy.pk, by=request.user, request=request)
        messages.success(request, f"Site policy {policy.name!r} now applies; re-judge stored snapshots to apply it to them.")
        return redirect("administration:policy")


class RejudgeStartView(AdminRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            run = services.start_rejudge(by=request.user, request=request)
        except services.AdministrationError as exc:
            messages.error(request, str(exc))
            current = services.running_rejudge()
            return redirect("administration:rejudge-detail", pk=current.pk) if current else redirect("administration:policy")
        return redirect("administration:rejudge-detail", pk=run.pk)


class RejudgeDetailView(AdminRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(Rejudge.objects.select_related("requested_by"), pk=pk)
        return render(request, "administration/rejudge.html", {"run": run})


class RejudgeStatusView(AdminRequiredMixin, View):
    """The progress of one run as JSON, polled by administration.js while the page is open."""

    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        run = get_object_or_404(Rejudge, pk=pk)
        response = JsonResponse(run.as_dict())
        response["Cache-Control"] = "no-store"
        return response
