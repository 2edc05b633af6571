"""The host list: counts by posture status equal the posture's, stale hosts, labels, filters shared with the API and
the export, and a cost that does not grow with the fleet."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import fields

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from compliance.engine import BENCHMARK
from compliance.posture.services import Counts, compute_posture, snapshot_rows
from inventory.models import Host
from tests.hosts.conftest import NOW, T0

pytestmark = pytest.mark.django_db

COUNT_COLUMNS = ["pass", "fail", "excepted", "attested", "manual", "error", "info", "not_applicable"]
MAX_QUERIES = 16
COUNT_FIELDS = ["passing", "failing", "excepted", "attested", "manual", "error", "info", "not_applicable"]


def page_for(user, path="/hosts/", **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def posture_counts(hostname: str) -> Counts:
    """A host's targets by status as the posture API computes them: the CIS posture scoped to that host alone."""
    posture = compute_posture(BENCHMARK, f"host={hostname}")
    assert [h.hostname for h in posture.hosts] == [hostname]
    total = Counts()
    for node in posture.requirements:
        if node.controls:
            total.add(node.counts)
    return total


def test_it_shows_hosts_to_every_role_and_refuses_a_user_without_one(estate, now, bob, carol, charlie):
    for user in (bob, carol):
        assert page_for(user).status_code == 200
    assert page_for(charlie).status_code == 403
    assert Client().get("/hosts/").status_code == 302


def test_it_counts_each_hosts_results_as_the_posture_does(estate, now, bob):
    response = page_for(bob)
    rows = {host.hostname: counts for host, counts, _ in response.context["rows"]}
    assert sorted(rows) == ["build", "db", "web"]
    for name, counts in rows.items():
        assert counts == posture_counts(name), name
        # The same as judging each result of the host's snapshot one by one (stopped containers not counted).
        judged = [r for r in snapshot_rows(estate[name], Host.objects.get(hostname=name).effective_labels)
                  if not r.result.is_stopped]
        by_status = {f: sum(1 for r in judged if r.status == s) for f, s in zip(COUNT_FIELDS, COUNT_COLUMNS, strict=True)}
        assert {f.name: getattr(counts, f.name) for f in fields(counts)} == by_status, name
    # Every decision kind shows: a host exception (2.1 on web), a container-scoped one (5.4 on pl-web), evidence.
    assert rows["web"].excepted >= 2 and rows["web"].attested >= 1 and rows["web"].failing > 0
    assert rows["build"].excepted >= 1 and rows["db"].excepted >= 1
    html = response.content.decode()
    assert f'<td class="num">{rows["web"].passing}</td>' in html


def test_it_flags_hosts_with_no_recent_snapshot(estate, bob):
    web = Host.objects.get(hostname="web")
    with time_machine.travel(T0 + datetime.timedelta(hours=25), tick=False):
        assert not any(stale for _, _, stale in page_for(bob).context["rows"])
    Host.objects.filter(pk=web.pk).update(last_collected_at=T0 + datetime.timedelta(hours=24))
    with time_machine.travel(T0 + datetime.timedelta(hours=30), tick=False):
        response = page_for(bob)
        stale = {host.hostname for host, _, is_stale in response.context["rows"] if is_stale}
        assert stale == {"db", "build"}
        assert 'class="badge stale"' in response.content.decode()
        assert [h.hostname for h, _, _ in page_for(bob, stale="true").context["rows"]] == ["build", "db"]
        assert [h.hostname for h, _, _ in page_for(bob, stale="false").context["rows"]] == ["web"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"label": "env=prod"}, ["db", "web"]),
    ({"label": "env=prod,pci!=cde"}, ["db"]),
    ({"label": "!pci"}, ["build", "db"]),
    ({"label": "pci"}, ["web"]),
    ({"hostname": "WE"}, ["web"]),
    ({"os": "debian"}, ["build", "db", "web"]),
    ({"os": "windows"}, []),
    ({"label": "env=prod", "hostname": "d"}, ["db"]),
])
def test_it_filters_the_page_and_the_api_alike(estate, now, bob, api_client_for, params, expected):
    assert sorted(h.hostname for h, _, _ in page_for(bob, **params).context["rows"]) == expected
    body = api_client_for(bob).get("/api/v1/hosts/", params).json()
    assert sorted(h["hostname"] for h in body["results"]) == expected


def test_it_filters_by_docker_version(estate, now, bob, api_client_for):
    Host.objects.filter(hostname="db").update(docker_version="27.0.1")
    response = page_for(bob, docker_version="27.0.1")
    assert [h.hostname for h, _, _ in response.context["rows"]] == ["db"]
    assert '<option value="27.0.1" selected>' in response.content.decode()
    body = api_client_for(bob).get("/api/v1/hosts/", {"docker_version": "27.0.1"}).json()
    assert [h["hostname"] for h in body["results"]] == ["db"]


def test_it_says_when_a_filter_matches_nothing_and_when_no_host_reported(estate, now, bob):
    html = page_for(bob, label="env=staging").content.decode()
    assert "No host matches these filters" in html and "No hosts have reported yet" not in html


def test_it_says_no_host_reported_only_when_there_is_none(bob, db):
    html = page_for(bob).content.decode()
    assert "No hosts have reported yet" in html
    assert "No hosts have reported yet" in page_for(bob, label="env=prod").content.decode()


@pytest.mark.parametrize("selector", ["env=(", "=x", "env=prod,,!x=y", "k" * 64, "env=" + "v" * 64])
def test_it_explains_a_malformed_selector_instead_of_an_empty_list(estate, now, bob, api_client_for, selector):
    response = page_for(bob, label=selector)
    html = response.content.decode()
    assert response.context["errors"] and response.context["errors"][0].startswith("label:")
    assert "These filters cannot be read" in html
    assert "No host matches" not in html and "No hosts have reported yet" not in html and ">web<" not in html
    api = api_client_for(bob).get("/api/v1/hosts/", {"label": selector})
    assert api.status_code == 400 and api.json()["error"] == "invalid" and "label" in api.json()["detail"]


@pytest.mark.parametrize("params", [{}, {"label": "env=prod"}, {"hostname": "b"}])
def test_it_exports_the_rows_the_page_shows_in_csv_and_xlsx(estate, now, bob, params):
    page_rows = [(h.hostname, counts) for h, counts, _ in page_for(bob, **params).context["rows"]]
    response = page_for(bob, **params, export="csv")
    assert response["Content-Type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["hostname"], [int(r[c]) for c in COUNT_COLUMNS]) for r in records] == [
        (name, [getattr(c, f) for f in COUNT_FIELDS]) for name, c in page_rows
    ]
    assert all(r["labels"] for r in records)
    xlsx = page_for(bob, **params, export="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[0]
    assert [(r[header.index("hostname")], [r[header.index(c)] for c in COUNT_COLUMNS]) for r in values[1:]] == [
        (name, [getattr(c, f) for f in COUNT_FIELDS]) for name, c in page_rows
    ]


def test_it_refuses_an_unknown_export_format_with_a_message(estate, now, bob):
    response = page_for(bob, export="pdf")
    assert response.status_code == 200
    assert "export: must be one of csv, xlsx" in response.content.decode()


def test_it_lists_hosts_in_the_same_number_of_queries_for_a_bigger_fleet(
    estate, push, now, bob, django_assert_max_num_queries
):
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        assert client.get("/hosts/").status_code == 200
    for i in range(6):
        push(f"web-{i}", at=T0 + datetime.timedelta(minutes=i))
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(MAX_QUERIES) as big:
        response = client.get("/hosts/")
    assert len(response.context["rows"]) == 9
    assert len(big.captured_queries) == len(small.captured_queries)
