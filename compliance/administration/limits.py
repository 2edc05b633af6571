"""What an account may read: `limits_for(user)` for the posture pages, the API and reports; expiry for the gates.

A limited auditor reads only the frameworks listed (others answer 403) and only the hosts of their label scope: the
scope they ask for is ANDed with theirs (the selector terms of both, combined).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from common.scope import Selector, parse_selector


class FrameworkNotAllowed(Exception):
    """The account's limits do not include this framework."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"This account may read only some frameworks, not {slug!r}.")
        self.slug = slug


@dataclass(frozen=True)
class AccessLimits:
    """frameworks: the slugs allowed, None for all; scope: a label selector every scope is ANDed with ("" for all)."""

    frameworks: frozenset[str] | None = None
    scope: str = ""

    @property
    def is_limited(self) -> bool:
        return self.frameworks is not None or bool(self.scope)

    def allows(self, slug: str) -> bool:
        return self.frameworks is None or slug in self.frameworks

    def check_framework(self, slug: str) -> None:
        """Raises FrameworkNotAllowed when `slug` is outside the limits."""
        if not self.allows(slug):
            raise FrameworkNotAllowed(slug)

    def scope_with(self, requested: str) -> str:
        """The requested selector ANDed with the account's; raises common.scope.SelectorError on a bad request.

        A term both name is kept once; `env=prod` asked by an account limited to `env=dev` selects nothing, as an AND
        of the two must.
        """
        terms = list(parse_selector(self.scope).terms)
        for term in parse_selector(requested).terms:
            if term not in terms:
                terms.append(term)
        return str(Selector(tuple(terms)))


NO_LIMITS = AccessLimits()


def account_limit(user: Any) -> Any | None:
    """The user's AccountLimit row or None; read once per user object (select_related by the gates)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    try:
        return user.account_limit
    except ObjectDoesNotExist:
        return None


def limits_for(user: Any) -> AccessLimits:
    """What `user` may read. Superusers and users without limits read everything."""
    limit = account_limit(user)
    if limit is None or getattr(user, "is_superuser", False):
        return NO_LIMITS
    frameworks = frozenset(limit.frameworks) if limit.frameworks else None
    return AccessLimits(frameworks=frameworks, scope=limit.scope)


def expired_at(user: Any, at: datetime.datetime | None = None) -> datetime.datetime | None:
    """When the user's access ended, if it has; None while it is valid (or has no end)."""
    limit = account_limit(user)
    if limit is not None and limit.is_expired(at):
        return limit.expires_at
    return None
