"""What every estate page shares: its query string without page and export, the export of its table, and the rows
of a table of judged results as the pages and their exports show them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse

from common.exports import FORMATS, export_response
from compliance.engine import CHECKS_BY_CONTROL
from compliance.posture.services import TargetRow

PAGE_SIZE = 100


def query_without(request: HttpRequest, *keys: str) -> str:
    """The request's query string less `keys` (page, export): what pagination and export links add to."""
    query = request.GET.copy()
    for key in keys or ("page", "export"):
        query.pop(key, None)
    return query.urlencode()


def export_format(request: HttpRequest) -> tuple[str, str]:
    """(the export format asked for or "", the reason it cannot be honoured or "")."""
    fmt = request.GET.get("export", "")
    if fmt and fmt not in FORMATS:
        return "", f"export: must be one of {', '.join(FORMATS)}, got {fmt[:20]!r}"
    return fmt, ""


def export(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> HttpResponse:
    return export_response(fmt, filename, header, rows, title)  # type: ignore[return-value]


RESULT_HEADER = [
    "section", "control", "title", "target_kind", "target_name", "target_state", "status", "exception", "evidence",
    "message",
]


def result_row(row: TargetRow) -> list[Any]:
    """One judged result as an export writes it: the columns of the pages' result tables."""
    r, verdict = row.result, row.verdict
    check = CHECKS_BY_CONTROL.get(r.control)
    return [
        r.control.split(".", 1)[0], r.control, check.title if check else "", r.target_kind, r.target_name,
        r.target_state, str(verdict.status), verdict.exception.pk if verdict.exception else "",
        verdict.evidence.pk if verdict.evidence else "", r.message,
    ]

