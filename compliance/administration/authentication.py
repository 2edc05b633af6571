"""API authentication: a user's API token stops working once the account's access has ended.

Settings: REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] lists
"compliance.administration.authentication.AccountLimitTokenAuthentication" in place of DRF's TokenAuthentication.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from compliance.administration.gates import expiry_reason, record_expired
from compliance.administration.limits import expired_at


class AccountLimitTokenAuthentication(TokenAuthentication):
    """DRF's token authentication (`Authorization: Token <key>`), refusing expired accounts with 401 (audited)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        self._request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        # The limits are read with the token and its user: no query more than TokenAuthentication makes.
        token = model.objects.select_related("user", "user__account_limit").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if (ended := expired_at(token.user)) is not None:
            request = getattr(self, "_request", None)
            record_expired(token.user, getattr(request, "_request", request), "api token", ended)
            raise exceptions.AuthenticationFailed(f"This account's {expiry_reason(ended)}.")
        return token.user, token
