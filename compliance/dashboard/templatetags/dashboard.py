"""Template filters of the pages: statuses as people read them, framework titles, shares as percentages.

`{% load dashboard %}`, then `{{ status|status_label }}` ("needs_evidence" -> "needs evidence", as badges read;
`|capfirst` it to start a sentence or an option),
`{{ framework|framework_title }}`, `{{ share|percent }}`.
"""

from __future__ import annotations

from typing import Any

from django import template

from compliance.choices import ResultStatus, TargetKind
from compliance.exceptions.choices import RiskAcceptanceStatus, RiskRating, ScopeKind
from compliance.posture.choices import PostureStatus, RequirementStatus
from inventory.choices import EvaluationStatus

register = template.Library()

# Every status value a page shows, with its label; an earlier choice wins (a target kind "host" reads "host", not
# the exception scope "one host").
STATUS_LABELS: dict[str, str] = {}
for _choices in (RequirementStatus, PostureStatus, ResultStatus, EvaluationStatus, RiskAcceptanceStatus, RiskRating,
                 TargetKind, ScopeKind):
    for _value, _label in _choices.choices:
        STATUS_LABELS.setdefault(_value, str(_label).lower())


@register.filter
def status_label(value: Any) -> str:
    """The label people read for a stored status value; an unknown value is shown with its underscores as spaces."""
    if value is None:
        return ""
    text = str(value)
    return STATUS_LABELS.get(text) or text.replace("_", " ").lower()


def title_of(name: str, version: str) -> str:
    """Name and version without repeating a word: GDPR's name ends with "Regulation" and its version begins with it,
    so "General Data Protection Regulation" + "Regulation (EU) 2016/679" reads
    "General Data Protection Regulation (EU) 2016/679"."""
    name, version = name.strip(), version.strip()
    if not version:
        return name
    last = name.rsplit(" ", 1)[-1]
    first, _, rest = version.partition(" ")
    if rest and first.lower() == last.lower():
        return f"{name} {rest}"
    return f"{name} {version}"


@register.filter
def framework_title(framework: Any) -> str:
    return title_of(framework.name, framework.version)


@register.filter
def percent(share: float | None) -> str:
    """0.4213 -> "42%"; no share (nothing to divide by) -> an em dash."""
    if share is None:
        return "—"
    return f"{share * 100:.0f}%"
