"""Middleware: a session outlives nothing; once an account's access has ended its next request logs it out.

Settings: MIDDLEWARE gets "compliance.administration.middleware.AccountLimitMiddleware" after
"django.contrib.messages.middleware.MessageMiddleware" (it needs the user and leaves a message).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from compliance.administration.gates import expiry_reason, record_expired
from compliance.administration.limits import expired_at


class AccountLimitMiddleware:
    """Ends the session of an expired account (audited); the request goes on as anonymous, so pages send it to the
    login form and the API answers 401/403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (ended := expired_at(user)) is not None:
            record_expired(user, request, "session", ended)
            logout(request)
            if hasattr(request, "_messages"):
                messages.warning(request, f"Your account's {expiry_reason(ended)}; ask an admin to extend it.")
        return self.get_response(request)
