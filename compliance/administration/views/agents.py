"""Agent tokens: the list, enrolment (the token shown once, with the command line), one token's hosts, revocation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView, ListView

from audit.services import events_for
from common.roles import AdminRequiredMixin
from compliance.administration import services
from compliance.administration.forms import EnrolAgentForm
from inventory.models import AgentToken, Host

TOKEN_FILE = "/etc/plimsoll/agent.token"


def agent_queryset() -> QuerySet[AgentToken]:
    """Tokens with what they pushed: snapshots and distinct hosts, counted in the one query of the list."""
    return AgentToken.objects.select_related("created_by").annotate(
        snapshot_count=Count("snapshots", distinct=True),
        host_count=Count("snapshots__host", distinct=True),
    ).order_by("revoked_at", "name")


class AgentListView(AdminRequiredMixin, ListView):
    template_name = "administration/agent_list.html"
    context_object_name = "tokens"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[AgentToken]:
        queryset = agent_queryset()
        state = self.request.GET.get("state", "")
        if state == "active":
            queryset = queryset.filter(revoked_at__isnull=True)
        elif state == "revoked":
            queryset = queryset.filter(revoked_at__isnull=False)
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["state"] = self.request.GET.get("state", "")
        return context


def server_url(request: HttpRequest) -> str:
    """This server's URL as the agent must reach it (the address the admin used, scheme included)."""
    return request.build_absolute_uri("/").rstrip("/")


class AgentEnrolView(AdminRequiredMixin, View):
    template_name = "administration/agent_enrol.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": EnrolAgentForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EnrolAgentForm(request.POST)
        if form.is_valid():
            try:
                token, raw = services.enrol_agent(form.cleaned_data["name"], by=request.user, request=request)
            except services.AdministrationError as exc:
                form.add_error("name", str(exc))
            else:
                # Rendered in this response, never redirected to: the secret is in no URL, session or later page.
                server = server_url(request)
                response = render(request, "administration/agent_enrolled.html", {
                    "token": token, "raw": raw, "server": server, "token_file": TOKEN_FILE,
                    "command": f"plimsoll-agent push --server {server} --token-file {TOKEN_FILE}",
                })
                response["Cache-Control"] = "no-store"
                return response
        return render(request, self.template_name, {"form": form}, status=400)


class AgentDetailView(AdminRequiredMixin, DetailView):
    template_name = "administration/agent_detail.html"
    context_object_name = "token"

    def get_queryset(self) -> QuerySet[AgentToken]:
        return agent_queryset()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        token = self.object
        hosts = (
            Host.objects.filter(snapshots__agent=token)
            .annotate(pushed=Count("snapshots", filter=Q(snapshots__agent=token)),
                      last_pushed=Max("snapshots__collected_at", filter=Q(snapshots__agent=token)))
            .order_by("hostname", "id")
        )
        context.update(hosts=hosts[:500], host_total=token.host_count, audit_events=events_for(token))
        return context


class AgentRevokeView(AdminRequiredMixin, View):
    """GET asks to confirm; POST revokes: hosts pushing with this token are refused from then on."""

    template_name = "administration/agent_revoke.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(agent_queryset(), pk=pk)
        return render(request, self.template_name, {"token": token})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(AgentToken, pk=pk)
        try:
            services.revoke_agent(token.pk, by=request.user, request=request)
        except services.AdministrationError as exc:
            return render(request, self.template_name, {"token": get_object_or_404(agent_queryset(), pk=pk),
                                                        "refusal": str(exc)}, status=409)
        messages.success(request, f"Agent token {token.name} revoked: its agent can no longer push snapshots.")
        return redirect("administration:agent-detail", pk=token.pk)
