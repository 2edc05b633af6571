"""GET /api/v1/posture/{slug}/, the posture pages and the daily record."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import record_daily_posture
from tests.posture.conftest import T0

pytestmark = pytest.mark.django_db


def test_it_answers_the_posture_of_a_framework(judged_host, bob, api_client_for):
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    response = api_client_for(bob).get("/api/v1/posture/pci-dss-4.0/", {"scope": "pci=cde"})
    assert response.status_code == 200
    body = response.json()
    assert body["framework"]["slug"] == "pci-dss-4.0" and body["scope"] == "pci=cde"
    node = next(r for r in body["requirements"] if r["ref_id"] == "2.2.5")
    assert node["status"] == "failing" and node["failing"] == [{"control": "2.5", "hosts": 1, "targets": 1}]
    assert body["summary"]["failing"] >= 1


def test_it_answers_as_of_a_date(judged_host, bob, api_client_for):
    judged_host("cde-1", {"2.5": ["fail"]}, at=T0)
    judged_host("cde-1", {"2.5": ["pass"]}, at=T0 + datetime.timedelta(days=3))
    client = api_client_for(bob)
    then = client.get("/api/v1/posture/pci-dss-4.0/", {"as_of": (T0 + datetime.timedelta(days=1)).date().isoformat()}).json()
    now = client.get("/api/v1/posture/pci-dss-4.0/").json()
    status = {b["as_of"] is None: next(r for r in b["requirements"] if r["ref_id"] == "2.2.5")["status"] for b in (then, now)}
    assert status == {False: "failing", True: "passing"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"as_of": "last tuesday"}, "as_of"), ({"scope": "a=b=c"}, "scope"), ({"include_stopped": "maybe"}, "include_stopped")],
)
def test_it_names_the_bad_parameter(catalogs, bob, api_client_for, params, field):
    response = api_client_for(bob).get("/api/v1/posture/pci-dss-4.0/", params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["detail"]


def test_it_answers_404_for_an_unknown_framework(catalogs, bob, api_client_for):
    response = api_client_for(bob).get("/api/v1/posture/iso-27001/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_it_needs_a_login(catalogs):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/posture/pci-dss-4.0/").status_code == 401


def test_its_query_count_does_not_grow_with_the_hosts(judged_host, bob, api_client_for, carol, alice):
    from compliance.exceptions.services import approve_exception, request_exception

    client = api_client_for(bob)
    for i in range(2):
        judged_host(f"h{i}", {"2.5": ["fail"], "5.5": ["fail@web-1"], "1.1.2": ["manual"]}, labels={"pci": "cde"})
    exception = request_exception(by=carol, control="5.5", scope_kind="container", scope_container_pattern="web-*",
                                  justification="x", risk_rating="low", expires_at=datetime.datetime.now(datetime.UTC)
                                  + datetime.timedelta(days=5))
    approve_exception(exception.pk, by=alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/posture/pci-dss-4.0/", {"scope": "pci=cde"}).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(2, 8):
        judged_host(f"h{i}", {"2.5": ["fail"], "5.5": ["fail@web-1"], "1.1.2": ["manual"]}, labels={"pci": "cde"})
    assert queries() == few
    assert few <= 20


def test_it_records_the_daily_summary_once_per_day(judged_host):
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    Assessment.objects.create(name="PCI CDE", framework_slug="pci-dss-4.0", selector="pci=cde")
    record_daily_posture(T0)
    record_daily_posture(T0 + datetime.timedelta(hours=2))
    records = PostureRecord.objects.filter(framework_slug="pci-dss-4.0")
    assert {(r.selector, r.day) for r in records} == {("pci=cde", T0.date()), ("", T0.date())}
    assert records.get(selector="pci=cde").summary["failing"] >= 1


def test_it_shows_the_framework_and_requirement_pages(judged_host, bob):
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    client = Client()
    client.force_login(bob)
    page = client.get("/posture/pci-dss-4.0/", {"scope": "pci=cde"})
    assert page.status_code == 200
    assert "2.2.5" in page.content.decode()
    detail = client.get("/posture/pci-dss-4.0/2.2.5/", {"scope": "pci=cde"})
    html = detail.content.decode()
    assert detail.status_code == 200 and "cde-1" in html and "2.5 fail" in html
    assert client.get("/posture/").status_code == 200
    assert client.get("/posture/pci-dss-4.0/", {"scope": "a=b=c"}).status_code == 400
    assert client.get("/posture/nope/").status_code == 404


def test_it_marks_the_exceptions_that_matched_so_unused_ones_go_stale(judged_host, carol, alice):
    from compliance.exceptions.models import RiskAcceptance
    from compliance.exceptions.services import approve_exception, flag_stale_exceptions, request_exception

    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    now = datetime.datetime.now(datetime.UTC)
    used = request_exception(by=carol, control="2.5", scope_kind="all", justification="x", risk_rating="low",
                             expires_at=now + datetime.timedelta(days=200))
    unused = request_exception(by=carol, control="5.5", scope_kind="all", justification="y", risk_rating="low",
                               expires_at=now + datetime.timedelta(days=200))
    for exception in (used, unused):
        approve_exception(exception.pk, by=alice)
    record_daily_posture()
    assert RiskAcceptance.objects.get(pk=used.pk).last_matched_at is not None
    assert RiskAcceptance.objects.get(pk=unused.pk).last_matched_at is None
    with time_machine.travel(now + datetime.timedelta(days=91), tick=False):
        record_daily_posture()  # the daily run keeps finding what the used one covers
        flag_stale_exceptions()
    assert RiskAcceptance.objects.get(pk=unused.pk).stale_since is not None
    assert RiskAcceptance.objects.get(pk=used.pk).stale_since is None


def test_its_drill_down_marks_what_exceptions_and_evidence_changed(judged_host, bob, carol, alice):
    from compliance.evidence.services import upload_evidence
    from compliance.exceptions.services import approve_exception, request_exception
    from frameworks.models import Requirement

    judged_host("cde-1", {"2.5": ["fail"], "1.1.2": ["manual"]}, labels={"pci": "cde"})
    now = datetime.datetime.now(datetime.UTC)
    exception = request_exception(by=carol, control="2.5", scope_kind="all", justification="x", risk_rating="low",
                                  expires_at=now + datetime.timedelta(days=30))
    approve_exception(exception.pk, by=alice)
    evidence = upload_evidence(by=carol, kind="note", title="group reviewed", description="ok",
                               collected_at=now - datetime.timedelta(days=1), valid_until=now + datetime.timedelta(days=30),
                               requirements=[Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")])
    client = Client()
    client.force_login(bob)
    excepted = client.get("/posture/pci-dss-4.0/2.2.5/").content.decode()
    assert f"/exceptions/{exception.pk}/" in excepted and "excepted" in excepted
    attested = client.get("/posture/pci-dss-4.0/7.2.3/").content.decode()
    assert f"/evidence/{evidence.pk}/" in attested and ">attested<" in attested


def test_it_reads_a_date_as_its_end_and_refuses_moments_out_of_range(judged_host, client, alice):
    from compliance.posture.api import parse_as_of

    assert parse_as_of("2026-11-30").isoformat() == "2026-11-30T23:59:59.999999+00:00"
    client.force_login(alice)
    for value in ("0001-01-01T00:30:00+01:00", "0001-01-01"):
        assert client.get("/api/v1/posture/cis-docker-1.6.0/", {"as_of": value}).status_code in (200, 400)
        assert client.get("/posture/cis-docker-1.6.0/", {"as_of": value}).status_code in (200, 400)
