"""A CIS recommendation's page: the catalog's words and the engine's rule, every target's status across the estate
with the posture's counts, the requirements it maps to, exports, and a cost flat in the fleet's size."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from compliance.engine import BENCHMARK
from compliance.posture.serializers import PostureSerializer
from compliance.posture.services import compute_posture
from frameworks.models import Mapping
from tests.hosts.conftest import NOW, T0

pytestmark = pytest.mark.django_db
MAX_QUERIES = 26
COUNT_FIELD = {"fail": "failing", "excepted": "excepted", "error": "error", "manual": "manual", "attested": "attested",
               "pass": "passing", "info": "info", "not_applicable": "not_applicable"}


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def test_it_shows_a_recommendation_to_auditors_only(estate, now, bob, charlie):
    assert get(bob, "/controls/5.4/").status_code == 200
    assert get(charlie, "/controls/5.4/").status_code == 403
    assert get(bob, "/controls/9.99/").status_code == 404
    assert get(bob, "/controls/5/").status_code == 404  # a section, not a recommendation


def test_it_shows_the_catalog_and_the_engines_rule(estate, now, bob):
    html = get(bob, "/controls/5.5/").content.decode()
    assert "Ensure that privileged containers are not used" in html
    assert "Containers are not run with --privileged, which removes nearly all isolation from the host." in html
    assert "fail when HostConfig.Privileged is true" in html  # the engine's rule
    assert "<code>docker.containers</code>" in html


@pytest.mark.parametrize(("control", "scope"), [("5.4", ""), ("5.5", ""), ("2.1", "env=prod"), ("1.2.1", ""), ("4.6", "")])
def test_its_counts_are_the_posture_apis_and_its_rows_add_up_to_them(estate, now, bob, api_client_for, control, scope):
    response = get(bob, f"/controls/{control}/", scope=scope)
    counts = dict(response.context["status_counts"])
    api = api_client_for(bob).get(f"/api/v1/posture/{BENCHMARK}/", {"scope": scope}).json()
    node = next(r for r in api["requirements"] if r["ref_id"] == control)
    assert {COUNT_FIELD[s]: n for s, n in counts.items()} == node["counts"]
    assert response.context["page"].paginator.count == sum(counts.values())
    for status, n in counts.items():
        filtered = get(bob, f"/controls/{control}/", scope=scope, status=status)
        assert filtered.context["page"].paginator.count == n, status
        assert {row.status for row in filtered.context["rows"]} <= {status}


def test_it_shows_each_decision(estate, now, bob):
    rows = {(r.result.host.hostname, r.result.target_name): r for r in get(bob, "/controls/5.4/").context["rows"]}
    assert rows[("web", "pl-web")].status == "excepted" and rows[("web", "pl-web")].verdict.exception is not None
    assert rows[("web", "pl-privileged")].status == "fail"
    attested = get(bob, "/controls/1.2.1/", status="attested").context["rows"]
    assert [r.result.host.hostname for r in attested] == ["web"] and attested[0].verdict.evidence is not None


def test_it_lists_the_requirements_it_maps_to(estate, now, bob):
    response = get(bob, "/controls/5.5/")
    mappings = response.context["mappings"]
    expected = Mapping.objects.filter(source__ref_id="5.5", source__framework__slug=BENCHMARK, crosswalk__is_current=True)
    assert len(mappings) == expected.count() > 0
    html = response.content.decode()
    for m in mappings:
        assert f'href="/posture/{m.target.framework.slug}/{m.target.ref_id}/"' in html
        assert m.rationale in html


def test_it_explains_a_malformed_scope_or_status(estate, now, bob):
    for params in ({"scope": "env=("}, {"status": "bogus"}):
        response = get(bob, "/controls/5.5/", **params)
        assert response.status_code == 200
        assert response.context["errors"] and "These filters cannot be read" in response.content.decode()
        assert "rows" not in response.context


@pytest.mark.parametrize("params", [{}, {"status": "fail"}, {"scope": "env=prod", "status": "excepted"}])
def test_it_exports_the_targets_the_page_lists(estate, now, bob, params):
    page = get(bob, "/controls/5.4/", **params).context
    listed = [(r.result.host.hostname, r.result.target_name, str(r.status)) for r in page["rows"]]
    assert listed
    csv_text = b"".join(get(bob, "/controls/5.4/", **params, export="csv").streaming_content).decode()
    assert [(r["hostname"], r["target_name"], r["status"]) for r in csv.DictReader(io.StringIO(csv_text))] == listed
    sheet = load_workbook(io.BytesIO(b"".join(get(bob, "/controls/5.4/", **params, export="xlsx").streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    h = values[0]
    assert [(v[h.index("hostname")], v[h.index("target_name")], v[h.index("status")]) for v in values[1:]] == listed


def test_the_posture_api_and_the_page_agree_for_every_recommendation(estate, now, bob):
    posture = compute_posture(BENCHMARK)
    serialized = {r["ref_id"]: r["counts"] for r in PostureSerializer.from_posture(posture)["requirements"]}
    for control in ("1.1.1", "2.15", "4.1", "5.12", "5.26"):
        counts = dict(get(bob, f"/controls/{control}/").context["status_counts"])
        assert {COUNT_FIELD[s]: n for s, n in counts.items()} == serialized[control], control


@pytest.mark.parametrize("path", ["/controls/5.4/", "/controls/5.4/?status=fail"])
def test_it_costs_the_same_queries_for_a_bigger_fleet(estate, push, now, bob, path, django_assert_max_num_queries):
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        assert client.get(path).status_code == 200
    for i in range(6):
        push(f"web-{i}", at=T0 + datetime.timedelta(minutes=i))
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(MAX_QUERIES) as big:
        assert client.get(path).status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)
