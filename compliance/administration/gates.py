"""The one record of a refused expired account, shared by the login backend, the API token class and the middleware."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest

from audit.choices import AuditAction
from audit.services import record


def expiry_reason(ended: datetime.datetime) -> str:
    return f"access ended {ended:%Y-%m-%d %H:%M} UTC"


def record_expired(user: Any, request: HttpRequest | None, attempt: str, ended: datetime.datetime) -> None:
    """Audit a refusal: `attempt` is what the expired account tried (login, api token, session)."""
    record(AuditAction.DENY, user, actor=user, request=request,
           changes={"action": [None, attempt], "reason": [None, expiry_reason(ended)]})
