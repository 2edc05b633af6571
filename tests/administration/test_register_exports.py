"""The exceptions register, the evidence register and the audit log export CSV and XLSX with the rows the page shows
under the same filters (one FilterSet each drives the page, the API parameters and the export)."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from audit.services import record
from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, reject_exception, request_exception
from frameworks.models import Requirement

pytestmark = pytest.mark.django_db

NOW = datetime.datetime.now(datetime.UTC)


def _exported_ids(client: Client, url: str, params: dict[str, Any], fmt: str) -> list[int]:
    response = client.get(url, {**params, "export": fmt})
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode())))
    else:
        rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(body)).active.iter_rows()]
    assert rows[0][0] == "id"
    return [int(row[0]) for row in rows[1:]]


def _page_ids(client: Client, url: str, params: dict[str, Any], key: str) -> list[int]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [obj.pk for obj in response.context[key]]


def _check(client: Client, url: str, key: str, cases: list[dict[str, Any]]) -> None:
    for params in cases:
        page = _page_ids(client, url, params, key)
        assert page, params  # every case selects something, or the comparison proves nothing
        for fmt in ("csv", "xlsx"):
            assert _exported_ids(client, url, params, fmt) == page, (params, fmt)


@pytest.fixture
def reader(bob: Any) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def exceptions(carol: Any, alice: Any, catalogs: None) -> Callable[[], None]:
    def make() -> None:
        for i, (control, rating) in enumerate([("5.5", "low"), ("5.10", "high"), ("5.5", "high"), ("4.1", "medium"),
                                               ("5.28", "low")]):
            exception = request_exception(
                by=carol, control=control, scope_kind="all", justification=f"=HYPERLINK(\"x\") reason {i}",
                risk_rating=rating, expires_at=NOW + datetime.timedelta(days=30 + i),
            )
            if i % 3 == 0:
                approve_exception(exception.pk, by=alice)
            elif i % 3 == 1:
                reject_exception(exception.pk, by=alice, note="no")

    return make


def test_the_exceptions_register_exports_the_rows_of_the_page(reader, exceptions):
    exceptions()
    _check(reader, "/exceptions/", "exceptions", [
        {}, {"status": "approved"}, {"status": "requested"}, {"risk_rating": "high"}, {"control": "5.5"},
        {"control": "5.5", "risk_rating": "high"}, {"requested_by": "carol", "status": ["approved", "rejected"]},
    ])
    text = b"".join(reader.get("/exceptions/", {"export": "csv", "status": "approved"}).streaming_content).decode()
    header, first = list(csv.reader(io.StringIO(text)))[:2]
    assert header[:6] == ["id", "control", "status", "scope", "risk_rating", "requested_by"]
    assert first[2] == "Approved" and first[5] == "carol" and first[7] == "alice"
    assert first[header.index("justification")].startswith("'=HYPERLINK")  # formula-safe


def test_the_evidence_register_exports_the_rows_of_the_page(reader, carol, catalogs):
    pci = Requirement.objects.get(framework__slug="pci-dss-4.0", framework__is_current=True, ref_id="2.2.1")
    cis = Requirement.objects.get(framework__slug="cis-docker-1.6.0", framework__is_current=True, ref_id="1.1.3")
    for i in range(6):
        upload_evidence(
            by=carol, kind="note" if i % 2 else "link", title=f"Evidence {i}", description=f"note {i}",
            url="" if i % 2 else f"https://wiki.example.test/{i}", requirements=[pci] if i < 3 else [cis],
            collected_at=NOW - datetime.timedelta(days=10 + i), valid_until=NOW + datetime.timedelta(days=5 - 2 * i),
        )
    _check(reader, "/evidence/", "evidence_list", [
        {}, {"kind": "note"}, {"framework": "pci-dss-4.0"}, {"control": "1.1.3"}, {"valid": "true"}, {"valid": "false"},
        {"title": "evidence 1", "kind": "note"},
    ])
    rows = list(csv.reader(io.StringIO(b"".join(
        reader.get("/evidence/", {"export": "csv", "framework": "pci-dss-4.0"}).streaming_content).decode())))
    assert {row[3] for row in rows[1:]} == {"pci-dss-4.0:2.2.1"} and {row[8] for row in rows[1:]} == {"carol"}


def test_the_audit_log_exports_the_rows_of_the_page(reader, alice, bob, carol, exceptions):
    exceptions()
    record("login_failed", None, username="mallory", object_repr="mallory")
    _check(reader, "/audit/", "events", [
        {}, {"action": "approve"}, {"actor": "carol"}, {"object_type": "exceptions.riskacceptance"},
        {"action": ["approve", "reject"], "actor": "alice"}, {"action": "login_failed"},
    ])


def test_an_unknown_export_format_is_a_page_error_not_a_crash(reader):
    for url in ("/exceptions/", "/evidence/", "/audit/"):
        response = reader.get(url, {"export": "pdf"})
        assert response.status_code == 400 and "export must be one of csv, xlsx" in response.content.decode(), url


def test_the_pages_link_their_exports_with_the_filters(reader):
    for url in ("/exceptions/?control=5.5", "/evidence/?kind=note", "/audit/?action=approve"):
        html = reader.get(url).content.decode()
        query = url.split("?")[1]
        assert f"?{query}&amp;export=csv" in html and f"?{query}&amp;export=xlsx" in html, url
