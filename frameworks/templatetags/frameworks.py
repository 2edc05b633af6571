"""How every page names a framework: `{% load frameworks %}{{ framework|framework_title }}`.

One helper (`title_of`) for the pages of every app, the charts' text alternatives and the dashboard's filter, so no
page doubles a word of a framework's name.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


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
    """A Framework (or anything with `name` and `version`) as the pages name it."""
    return title_of(framework.name, framework.version)
