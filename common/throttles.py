"""One API throttle: per person, per agent token, per address for anonymous requests; 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class RequestRateThrottle(SimpleRateThrottle):
    """Rates from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]: `user`, `agent` and `anon`."""

    scope = "user"

    def get_rate(self) -> str:
        # Read at each request, not at import, so a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = self._scope(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    @staticmethod
    def _scope(request: Any) -> str:
        if request.user is not None and request.user.is_authenticated:
            return "user"
        # An agent authenticates with its token and no user (inventory.auth).
        return "agent" if request.auth is not None else "anon"

    def get_cache_key(self, request: Any, view: Any) -> str:
        if self.scope == "user":
            ident = str(request.user.pk)
        elif self.scope == "agent":
            ident = str(getattr(request.auth, "pk", "") or "")
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
