"""Users and roles: the list, creating a user, one user's role, limits, status and history; the set-password link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group, User
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from audit.choices import AuditAction
from audit.services import events_for, record
from common.roles import ROLES, AdminRequiredMixin
from compliance.administration import services
from compliance.administration.forms import ROLE_LABELS, AccountLimitForm, RoleForm, UserCreateForm
from compliance.administration.limits import account_limit


def user_queryset() -> QuerySet[User]:
    roles = Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES))
    return User.objects.select_related("account_limit").prefetch_related(roles).order_by("username")


def describe(user: User) -> dict[str, Any]:
    """What the pages show of a user's role and status, from the rows already loaded."""
    role = services.role_of(user)
    limit = account_limit(user)
    now = timezone.now()
    if not user.is_active:
        status = "inactive"
    elif limit is not None and limit.is_expired(now):
        status = "expired"
    else:
        status = "active"
    return {"user": user, "role": role, "role_label": ROLE_LABELS[role], "status": status, "limit": limit}


class UserListView(AdminRequiredMixin, ListView):
    template_name = "administration/user_list.html"
    context_object_name = "users"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[User]:
        queryset = user_queryset()
        if role := self.request.GET.get("role"):
            queryset = queryset.filter(groups__name=role) if role in ROLES else queryset.exclude(groups__name__in=ROLES)
        if q := self.request.GET.get("q", "").strip():
            queryset = queryset.filter(Q(username__icontains=q) | Q(email__icontains=q) | Q(last_name__icontains=q))
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [describe(user) for user in context["users"]]
        context["role_labels"] = [(role, ROLE_LABELS[role]) for role in (*ROLES, services.NO_ROLE)]
        context["role"] = self.request.GET.get("role", "")
        context["q"] = self.request.GET.get("q", "")
        return context


class UserCreateView(AdminRequiredMixin, View):
    template_name = "administration/user_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": UserCreateForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = UserCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.create_user(
                    username=data["username"], email=data["email"], first_name=data["first_name"],
                    last_name=data["last_name"], role=data["role"], password=form.password, by=request.user,
                    request=request, expires_at=form.expires_at, frameworks=data["frameworks"], scope=data["scope"],
                )
            except services.AdministrationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"User {user.username} created as {ROLE_LABELS[data['role']].lower()}.")
                if form.password is None:
                    return _show_link(request, user)
                return redirect("administration:user-detail", pk=user.pk)
        return render(request, self.template_name, {"form": form}, status=400)


def _show_link(request: HttpRequest, user: User) -> HttpResponse:
    """The set-password link, shown in this response only (it is a credential until used)."""
    link = request.build_absolute_uri(services.set_password_path(user))
    response = render(request, "administration/user_link.html", {"subject": user, "link": link})
    response["Cache-Control"] = "no-store"
    return response


def _detail(request: HttpRequest, user: User, status: int = 200, **forms: Any) -> HttpResponse:
    row = describe(user)
    # The user shown is `subject`: `user` stays the one logged in (the page header and permissions read it).
    context = {
        "role": row["role"], "role_label": row["role_label"], "status": row["status"], "limit": row["limit"],
        "subject": user, "is_self": user.pk == request.user.pk,
        "role_form": forms.get("role_form") or RoleForm(initial={"role": row["role"]}),
        "limit_form": forms.get("limit_form") or AccountLimitForm(initial=AccountLimitForm.initial_for(row["limit"])),
        "refusal": forms.get("refusal", ""),
        "audit_events": events_for(user),
    }
    return render(request, "administration/user_detail.html", context, status=status)


class UserDetailView(AdminRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _detail(request, get_object_or_404(user_queryset(), pk=pk))


class UserRoleView(AdminRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = get_object_or_404(user_queryset(), pk=pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            return _detail(request, user, 400, role_form=form)
        try:
            changed = services.set_role(user, form.cleaned_data["role"], by=request.user, request=request)
        except services.AdministrationError as exc:
            return _detail(request, user, 409, role_form=form, refusal=str(exc))
        if changed:
            messages.success(request, f"{user.username} is now {ROLE_LABELS[form.cleaned_data['role']].lower()}.")
        return redirect("administration:user-detail", pk=user.pk)


class UserActiveView(AdminRequiredMixin, View):
    """POST active=0 deactivates (no login, no API token, sessions end), active=1 reactivates."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = get_object_or_404(user_queryset(), pk=pk)
        if request.POST.get("active") not in ("0", "1"):
            return _detail(request, user, 400, refusal="Choose to activate or deactivate the account.")
        active = request.POST["active"] == "1"
        try:
            changed = services.set_active(user, active, by=request.user, request=request)
        except services.AdministrationError as exc:
            return _detail(request, user, 409, refusal=str(exc))
        if changed:
            messages.success(request, f"{user.username} {'reactivated' if active else 'deactivated'}.")
        return redirect("administration:user-detail", pk=user.pk)


class UserLimitsView(AdminRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = get_object_or_404(user_queryset(), pk=pk)
        form = AccountLimitForm(request.POST)
        if not form.is_valid():
            return _detail(request, user, 400, limit_form=form)
        try:
            changed = services.set_limits(
                user, expires_at=form.expires_at, frameworks=form.cleaned_data["frameworks"],
                scope=form.cleaned_data["scope"], by=request.user, request=request,
            )
        except services.AdministrationError as exc:
            return _detail(request, user, 409, limit_form=form, refusal=str(exc))
        if changed:
            messages.success(request, f"Access limits of {user.username} saved.")
        return redirect("administration:user-detail", pk=user.pk)


class UserPasswordLinkView(AdminRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = get_object_or_404(user_queryset(), pk=pk)
        services.record_password_link(user, by=request.user, request=request)
        return _show_link(request, user)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The one-time link a new user (or one given a new link) follows to choose their password; audited."""

    template_name = "administration/set_password.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(AuditAction.CHANGE, form.user, actor=form.user, request=self.request,
               changes={"password": [None, "(set through the link)"]})
        messages.success(self.request, "Password set: log in with it now.")
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["login_url"] = reverse("login")
        return context
