"""Agent authentication: `Authorization: Bearer <agent token>` resolves to an AgentToken on request.auth."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from inventory.models import AgentToken


class AgentTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, AgentToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword != self.keyword:
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("Bearer token is empty.")
        token = AgentToken.lookup(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown agent token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This agent token has been revoked.")
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="plimsoll-agents"'


class IsAgent:
    """Allows requests authenticated with an active agent token."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, AgentToken)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)


class AgentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.auth.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Agent token from `manage.py create_agent_token`."}
