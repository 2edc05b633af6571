"""Logins and failed logins go to the audit trail; one INSERT each, nothing more in the handler."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from audit.choices import AuditAction
from audit.services import record


@receiver(user_logged_in, dispatch_uid="audit_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(AuditAction.LOGIN, user, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    record(AuditAction.LOGIN_FAILED, None, request=request, username=username, object_repr=username)
