"""common.csv: the one escaping of CSV cells against formula injection, and the streamed exports that use it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from audit.services import record
from common.csv import csv_cell, csv_rows_response

DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://evil")']


@pytest.mark.parametrize("text", DANGEROUS)
def test_it_prefixes_a_text_cell_that_starts_like_a_formula(text):
    assert csv_cell(text) == f"'{text}"


@pytest.mark.parametrize("text", ["alice", "5.5", "a=b", "x-1", "", "émoji ✓", "'already quoted"])
def test_it_leaves_plain_text_unchanged(text):
    assert csv_cell(text) == text


@pytest.mark.parametrize("number", [0, 42, -5, 3.5, -0.25, Decimal("-1.50")])
def test_it_writes_numbers_as_numbers_even_negative_ones(number):
    assert csv_cell(number) == number


def test_it_escapes_text_that_only_looks_like_a_number_and_numbers_that_are_not_finite():
    assert csv_cell("-5") == "'-5"
    assert csv_cell(float("-inf")) == "'-inf"
    assert csv_cell(Decimal("NaN")) == "NaN"


def test_it_writes_none_as_empty_and_other_values_as_text():
    assert csv_cell(None) == ""
    assert csv_cell(True) == "True"
    assert csv_cell(["-x"]) == "['-x']"


def test_it_streams_every_cell_escaped_with_a_safe_file_name():
    response = csv_rows_response('a"b/../c.csv', ["id", "=name"], iter([[1, "=cmd"], [-5, "plain"]]))
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ab..c.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["id", "'=name"], ["1", "'=cmd"], ["-5", "plain"]]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/audit-log/export/", "/api/v1/audit-log/?format=csv", "/audit/export/"])
def test_it_escapes_every_dangerous_prefix_in_the_audit_log_export(bob, api_client_for, url):
    for text in DANGEROUS:
        record("login_failed", None, username=text, object_repr=text)
    if url.startswith("/api/"):
        response = api_client_for(bob).get(url)
    else:
        client = Client()
        client.force_login(bob)
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    failed = [row for row in rows[1:] if row[3] == "login_failed"]
    assert sorted(row[2] for row in failed) == sorted(f"'{text}" for text in DANGEROUS)
    assert sorted(row[6] for row in failed) == sorted(f"'{text}" for text in DANGEROUS)
    assert all(row[0].isdigit() for row in rows[1:])
