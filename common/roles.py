"""The three roles of Plimsoll, as Django groups, and the checks the API and the pages make with them.

`auditor` reads everything and writes nothing; `security_manager` manages evidence and exceptions; `admin` all.
A user with no role reads nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

AUDITOR = "auditor"
SECURITY_MANAGER = "security_manager"
ADMIN = "admin"
ROLES = (AUDITOR, SECURITY_MANAGER, ADMIN)

# Model permissions (for the admin site; the app's own pages and API check roles with user_has_role).
# Auditors and managers view; admins also set up what the app runs on: agents, hosts, label rules, the site
# policy, assessments and users.
_VIEW_ALL = [
    ("inventory", "host"), ("inventory", "snapshot"), ("inventory", "container"), ("inventory", "image"),
    ("inventory", "network"), ("inventory", "agenttoken"), ("inventory", "labelrule"), ("compliance", "sitepolicy"),
    ("compliance", "evaluation"), ("posture", "assessment"), ("posture", "posturerecord"), ("audit", "auditevent"),
    ("reports", "report"),
]
_ADMIN_MANAGES = [
    ("inventory", "host"), ("inventory", "agenttoken"), ("inventory", "labelrule"), ("compliance", "sitepolicy"),
    ("posture", "assessment"), ("auth", "user"),
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUDITOR: [f"{app}.view_{model}" for app, model in _VIEW_ALL],
    SECURITY_MANAGER: [f"{app}.view_{model}" for app, model in _VIEW_ALL],
    ADMIN: [f"{app}.view_{model}" for app, model in _VIEW_ALL]
    + [f"{app}.{verb}_{model}" for app, model in _ADMIN_MANAGES for verb in ("view", "add", "change")]
    + ["inventory.delete_labelrule", "posture.delete_assessment"],
}


def user_has_role(user: Any, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=roles).exists()


READERS = (AUDITOR, SECURITY_MANAGER, ADMIN)
MANAGERS = (SECURITY_MANAGER, ADMIN)


def can_read(user: Any) -> bool:
    return user_has_role(user, *READERS)


def can_manage(user: Any) -> bool:
    return user_has_role(user, *MANAGERS)


class ReadAnyRoleManageByManagers(permissions.BasePermission):
    """Safe methods for any role; writes for security managers and admins."""

    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return can_read(request.user)
        return can_manage(request.user)


class AnyRole(permissions.BasePermission):
    """Any of the three roles, whatever the method (read-only views then answer 405 to writes)."""

    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_read(request.user)


class ReaderRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """HTML pages: log in first, then any role may read (403 otherwise)."""

    def test_func(self) -> bool:
        return can_read(self.request.user)  # type: ignore[attr-defined]

    def handle_no_permission(self) -> Any:
        if self.request.user.is_authenticated:  # type: ignore[attr-defined]
            raise PermissionDenied("Your role does not allow this.")
        return super().handle_no_permission()


class ManagerRequiredMixin(ReaderRequiredMixin):
    """HTML pages that change things: security managers and admins only."""

    def test_func(self) -> bool:
        return can_manage(self.request.user)  # type: ignore[attr-defined]


class AdminRole(permissions.BasePermission):
    """Admins only (enrolment, labels, users)."""

    message = "Only an admin can do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, ADMIN)


class AdminRequiredMixin(ReaderRequiredMixin):
    """HTML pages that enrol agents or label hosts: admins only."""

    def test_func(self) -> bool:
        return user_has_role(self.request.user, ADMIN)  # type: ignore[attr-defined]
