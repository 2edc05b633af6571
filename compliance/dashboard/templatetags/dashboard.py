"""Template filters of the pages: statuses as people read them, framework titles, shares as percentages.

`{% load dashboard %}`, then `{{ status|status_label }}` ("needs_evidence" -> "needs evidence", as badges read;
`|capfirst` it to start a sentence or an option),
`{{ framework|framework_title }}` (frameworks.templatetags.frameworks), `{{ share|percent }}`.
"""

from __future__ import annotations

from typing import Any

from django import template

from compliance.choices import ResultStatus, TargetKind
from compliance.exceptions.choices import RiskAcceptanceStatus, RiskRating, ScopeKind
from compliance.posture.choices import PostureStatus, RequirementStatus
from frameworks.templatetags.frameworks import framework_title
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


# The one way pages name a framework, shared with the frameworks app's pages.
register.filter("framework_title", framework_title)


@register.filter
def percent(share: float | None) -> str:
    """0.4213 -> "42%"; no share (nothing to divide by) -> an em dash."""
    if share is None:
        return "—"
    return f"{share * 100:.0f}%"
