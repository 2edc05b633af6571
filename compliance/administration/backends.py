"""Authentication backend: a password is not enough once an account's access has ended (AccountLimit.expires_at).

Settings: AUTHENTICATION_BACKENDS = ["compliance.administration.backends.AccountLimitBackend"].
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from compliance.administration.gates import record_expired
from compliance.administration.limits import expired_at


class AccountLimitBackend(ModelBackend):
    """ModelBackend that refuses an expired account at login (audited) and loads each session's limits with its user."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        # Checked after the password, so only someone holding it learns (from the trail, not the form) why it failed;
        # Django then records the failed login as for a wrong password.
        if (ended := expired_at(user)) is not None:
            record_expired(user, request, "login", ended)
            return None
        return user

    def get_user(self, user_id: Any) -> Any:
        # The limits come with the user in one query, so the middleware's check costs nothing per request. Expiry is
        # left to the middleware, which ends the session and records it, rather than silently hiding the user here.
        model = get_user_model()
        user = model._default_manager.select_related("account_limit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
