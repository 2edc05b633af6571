"""HTML pages of the exceptions: the list, the request form, one exception with its history and its decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView, ListView

from audit.services import events_for
from common.exports import ExportFormatError, export_response
from common.roles import ManagerRequiredMixin, ReaderRequiredMixin, can_manage
from compliance.administration.limits import visible_exceptions
from compliance.exceptions import services
from compliance.exceptions.choices import RiskAcceptanceStatus, RiskRating, ScopeKind
from compliance.exceptions.filters import RiskAcceptanceFilterSet
from compliance.exceptions.forms import DecisionForm, RiskAcceptanceForm, prefill
from compliance.exceptions.models import FourEyesViolation, NotPermitted, RiskAcceptance, TransitionNotAllowed

_RELATED = ("requested_by", "approved_by", "rejected_by", "revoked_by", "scope_host")


class RiskAcceptanceListView(ReaderRequiredMixin, ListView):
    """The exceptions register; `?export=csv|xlsx` exports every row the same filters select, unpaginated."""

    template_name = "exceptions/riskacceptance_list.html"
    context_object_name = "exceptions"
    paginate_by = 100
    export_error = ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if fmt := request.GET.get("export"):
            try:
                return export_response(
                    fmt, "plimsoll-exceptions", EXPORT_HEADER, map(export_row, self.get_queryset()), "Exceptions"
                )
            except ExportFormatError as exc:
                self.export_error = str(exc)
                response = super().get(request, *args, **kwargs)
                response.status_code = 400
                return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        # A limited auditor reads the exceptions about their frameworks and hosts only (limits.Visibility).
        queryset = visible_exceptions(RiskAcceptance.objects.all(), self.request.user)
        queryset = queryset.select_related(*_RELATED).order_by("-requested_at", "-id")
        self.filterset = RiskAcceptanceFilterSet(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for key in ("page", "export"):
            query.pop(key, None)
        context.update(
            filter=self.filterset, statuses=RiskAcceptanceStatus.choices, scope_kinds=ScopeKind.choices,
            ratings=RiskRating.choices, can_manage=can_manage(self.request.user), query=query.urlencode(),
            export_error=self.export_error,
        )
        return context


EXPORT_HEADER = [
    "id", "control", "status", "scope", "risk_rating", "requested_by", "requested_at", "approved_by", "approved_at",
    "expires_at", "justification", "compensating_controls", "stale_since",
]


def export_row(e: RiskAcceptance) -> list[Any]:
    """One exception as the register exports it: the columns the page shows, then the texts behind them."""
    return [
        e.pk, e.control, e.get_effective_status_display(), e.scope_display, e.get_risk_rating_display(),
        e.requested_by.username, e.requested_at, e.approved_by.username if e.approved_by else "", e.approved_at,
        e.expires_at, e.justification, e.compensating_controls, e.stale_since,
    ]


class RiskAcceptanceCreateView(ManagerRequiredMixin, View):
    template_name = "exceptions/riskacceptance_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # Prefilled from a failing row of a drill-down or a host page: control, scope, and the requirement it came from.
        form = RiskAcceptanceForm(initial=prefill(request.GET))
        return render(request, self.template_name, {"form": form, "requirement": request.GET.get("requirement", "")[:300]})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RiskAcceptanceForm(request.POST)
        if form.is_valid():
            try:
                exception = services.request_exception(by=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Exception #{exception.pk} requested; another security manager must approve it.")
                return redirect(exception)
        return render(request, self.template_name, {"form": form}, status=400)


class RiskAcceptanceDetailView(ReaderRequiredMixin, DetailView):
    template_name = "exceptions/riskacceptance_detail.html"
    context_object_name = "exception"

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        return visible_exceptions(RiskAcceptance.objects.select_related(*_RELATED), self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(detail_context(self.request, self.object))
        return context


def detail_context(request: HttpRequest, exception: RiskAcceptance) -> dict[str, Any]:
    status = exception.effective_status
    manager = can_manage(request.user)
    own = exception.requested_by_id == request.user.pk
    return {
        "exception": exception,
        "status": status,
        "can_decide": manager and not own and status == RiskAcceptanceStatus.REQUESTED,
        "can_revoke": manager and status == RiskAcceptanceStatus.APPROVED,
        "is_own": own,
        "decision_form": DecisionForm(),
        "audit_events": events_for(exception),
    }


class DecisionView(ReaderRequiredMixin, View):
    """POST /exceptions/<pk>/approve|reject|revoke/: the same services as the API, the same 403 and 409."""

    decide: Callable[..., RiskAcceptance]
    text_argument = "note"
    done = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        exception = get_object_or_404(RiskAcceptance, pk=pk)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self._refuse(request, exception, f"Note: {' '.join(form.errors['note'])}", 400, form)
        try:
            self.decide(exception.pk, by=request.user, request=request, **{self.text_argument: form.cleaned_data["note"]})
        except (FourEyesViolation, NotPermitted) as exc:
            return self._refuse(request, exception, str(exc), 403)
        except TransitionNotAllowed as exc:
            return self._refuse(request, exception, str(exc), 409)
        messages.success(request, f"Exception #{exception.pk} {self.done}.")
        return redirect(exception)

    def _refuse(
        self, request: HttpRequest, exception: RiskAcceptance, reason: str, status: int, form: DecisionForm | None = None
    ) -> HttpResponse:
        exception.refresh_from_db()
        context = detail_context(request, exception)
        context["refusal"] = reason
        if form is not None:
            context["decision_form"] = form
        return render(request, "exceptions/riskacceptance_detail.html", context, status=status)


class ApproveView(DecisionView):
    decide = staticmethod(services.approve_exception)
    done = "approved"


class RejectView(DecisionView):
    decide = staticmethod(services.reject_exception)
    done = "rejected"


class RevokeView(DecisionView):
    decide = staticmethod(services.revoke_exception)
    text_argument = "reason"
    done = "revoked"
