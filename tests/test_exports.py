"""Table exports: CSV and XLSX carry the same rows, and neither lets a cell run as a formula."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook

from common.exports import ExportFormatError, export_response

HEADER = ["name", "count", "when", "labels"]
ROWS = [
    ["=cmd|' /C calc'!A0", -5, datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.UTC), {"pci": "cde"}],
    ["plain", 3, None, ["a", "b"]],
]


def test_it_writes_the_same_rows_in_csv_and_xlsx():
    csv_text = b"".join(export_response("csv", "hosts", HEADER, ROWS).streaming_content).decode()
    lines = csv_text.splitlines()
    assert lines[0] == "name,count,when,labels"
    assert lines[1].startswith("'=cmd") and ",-5,2026-11-01T12:00:00+00:00,pci=cde" in lines[1]
    xlsx = export_response("xlsx", "hosts", HEADER, ROWS)
    assert xlsx["Content-Disposition"].endswith('filename="hosts.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER
    assert values[1][0].startswith("'=") and values[1][1] == -5 and values[1][3] == "pci=cde"
    assert values[2] == ["plain", 3, None, "a, b"]


def test_it_refuses_an_unknown_format():
    with pytest.raises(ExportFormatError):
        export_response("pdf", "hosts", HEADER, ROWS)
