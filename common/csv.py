"""CSV exports: every cell written so a spreadsheet shows it and never runs it, rows streamed as they are read.

Every export goes through `csv_rows_response`, which passes each cell through `csv_cell`.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, Decimal) and value.is_finite()


def csv_cell(value: Any) -> str | int | float | Decimal:
    """One cell as written: a finite number stays a number (-5 is data, not a formula), None is empty, anything else is
    text, prefixed with a single quote when it starts like a formula."""
    if value is None:
        return ""
    if _is_number(value):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer yields lines instead of buffering them."""

    def write(self, value: str) -> str:
        return value


def csv_rows_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A CSV attachment of `header` then `rows`, streamed: memory stays flat however many rows `rows` yields."""
    writer = csv.writer(_Echo())
    lines = (writer.writerow([csv_cell(value) for value in row]) for row in itertools.chain([header], rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "", filename) or "export.csv"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` (or Accept: text/csv) pick the CSV export of a view, which streams it with csv_rows_response.

    Whatever else reaches this renderer is an error body; it is rendered as JSON text.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)
