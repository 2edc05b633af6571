"""The CIS recommendation page reads only the hosts its page spans: walked page by page, it lists exactly the rows
the export lists (every row, in the same order), whatever the status filter and the page size."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _walk(client: Client, control: str, params: dict[str, str]) -> list[tuple[str, str, str, str]]:
    rows, number = [], 1
    while True:
        context = client.get(f"/controls/{control}/", {**params, "page": number}).context
        rows += [(r.result.host.hostname, r.result.target_kind, r.result.target_name, str(r.status))
                 for r in context["rows"]]
        if not context["page"].has_next():
            assert context["page"].paginator.count == len(rows)
            return rows
        number += 1


CASES = [
    ("5.4", {}), ("5.4", {"status": "fail"}), ("5.4", {"status": "excepted"}), ("5.4", {"status": "pass"}),
    ("5.5", {"status": "excepted"}), ("2.1", {}), ("4.6", {"scope": "env=prod"}),
]


def test_its_pages_list_the_rows_of_the_export(estate, now, bob, monkeypatch):
    client = Client()
    client.force_login(bob)
    for control, params in CASES:
        exported = b"".join(client.get(f"/controls/{control}/", {**params, "export": "csv"}).streaming_content).decode()
        expected = [(r["hostname"], r["target_kind"], r["target_name"], r["status"])
                    for r in csv.DictReader(io.StringIO(exported))]
        assert expected, (control, params)
        counts = dict(client.get(f"/controls/{control}/", params).context["status_counts"])
        assert len(expected) == (counts[params["status"]] if "status" in params else sum(counts.values()))
        for page_size in (1, 3, 100):
            monkeypatch.setattr("compliance.hosts.recommendation_views.PAGE_SIZE", page_size)
            assert _walk(client, control, params) == expected, (control, params, page_size)
