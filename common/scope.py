"""Label selectors that name a scope of hosts: `env=prod,pci=cde`, `env!=dev`, `pci` (has the key), `!legacy`.

Terms are ANDed and match a host's effective labels (`matches`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY = r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}"
_TERM = re.compile(rf"^(?P<neg>!)?(?P<key>{_KEY})(?:(?P<op>!=|=)(?P<value>[A-Za-z0-9_.\-/:]*))?$")


class SelectorError(ValueError):
    """A label selector that cannot be parsed; the message names the bad term."""


@dataclass(frozen=True)
class Term:
    key: str
    op: str  # "=", "!=", "exists", "absent"
    value: str = ""

    def matches(self, labels: dict[str, Any]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "absent":
            return not present
        equal = present and str(labels[self.key]) == self.value
        return equal if self.op == "=" else not equal


@dataclass(frozen=True)
class Selector:
    terms: tuple[Term, ...]

    def matches(self, labels: dict[str, Any] | None) -> bool:
        labels = labels or {}
        return all(term.matches(labels) for term in self.terms)

    def __str__(self) -> str:
        parts = []
        for t in self.terms:
            parts.append({"exists": t.key, "absent": f"!{t.key}"}.get(t.op, f"{t.key}{t.op}{t.value}"))
        return ",".join(parts)


def parse_selector(text: str | None) -> Selector:
    """Parse a selector; empty text selects every host."""
    terms = []
    for raw in (text or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        match = _TERM.match(raw)
        if not match or (match["neg"] and match["op"]):
            raise SelectorError(f"bad label selector term {raw!r}: use key=value, key!=value, key or !key")
        if match["op"]:
            terms.append(Term(match["key"], match["op"], match["value"]))
        else:
            terms.append(Term(match["key"], "absent" if match["neg"] else "exists"))
    return Selector(tuple(terms))
