"""Which hosts an account reads: a hook the inventory asks and another app answers.

The inventory never imports the compliance domain (docs/architecture.md); account limits (time-limited auditors
limited to a label scope) live there, so `compliance.dashboard.apps` registers the rule here at start-up, beside the
audit log's event filter. With no rule registered every account reads every host.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

HostRule = Callable[[Any], Collection[int] | None]

_rule: HostRule | None = None


def register_readable_hosts(rule: HostRule) -> None:
    """`rule(user)` answers the ids of the hosts the account reads, or None for every host."""
    global _rule
    _rule = rule


def readable_host_ids(user: Any) -> Collection[int] | None:
    if _rule is None or not getattr(user, "is_authenticated", False):
        return None
    return _rule(user)
