"""Table exports in CSV and XLSX: the same header and rows, each cell made safe the same way (common.csv.csv_cell).

A list page, its API and its export share one FilterSet: the view filters its queryset, turns it into rows, and
calls `export_response(request.GET.get("export"), ...)`.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import FileResponse, HttpResponse

from common.csv import csv_cell, csv_rows_response

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormatError(ValueError):
    """An export format other than csv or xlsx."""


def _xlsx_cell(value: Any) -> Any:
    # Spreadsheets have no time zones: an aware time is written in UTC, naive, as the pages show it.
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, datetime.date | datetime.datetime):
        return value
    if isinstance(value, list | tuple | set | dict):
        value = ", ".join(map(str, value)) if not isinstance(value, dict) else ", ".join(f"{k}={v}" for k, v in value.items())
    return csv_cell(value)


def xlsx_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Export") -> FileResponse:
    """An XLSX attachment of `header` then `rows`, written in openpyxl's write-only mode (flat memory), spooled to disk."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "Export")
    sheet.append([str(h) for h in header])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=_safe(filename, "xlsx"), content_type=XLSX_TYPE)


def export_response(
    fmt: str, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Export"
) -> HttpResponse | FileResponse:
    """The CSV or XLSX export of a table; `filename` without its extension. Raises ExportFormatError."""
    if fmt == "csv":
        return csv_rows_response(_safe(filename, "csv"), header, ([_csv_value(v) for v in row] for row in rows))
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows, title)
    raise ExportFormatError(f"export must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, list | tuple | set):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def _safe(filename: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", filename).strip("-.") or "export"
    return f"{stem}.{extension}"
