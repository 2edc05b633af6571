"""The overview at /: the numbers of every framework equal the posture API's, the share says how it is computed,
stale hosts, expiring exceptions and evidence, evaluation failures, and a cost that does not grow with the fleet."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client

from compliance.dashboard.overview import EXPIRY_DAYS
from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from compliance.posture.models import PostureRecord
from frameworks.models import Framework, Requirement
from inventory.choices import EvaluationStatus
from inventory.models import Host
from tests.dashboard.conftest import NOW, fleet

pytestmark = pytest.mark.django_db


def card(html: str, slug: str) -> str:
    start = html.index(f'data-slug="{slug}"')
    end = html.find("</section>", start)
    return html[start:end]


def count(html: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', html).group(1))


def test_it_shows_every_framework_with_the_numbers_of_the_posture_api(estate, bob, client_for, api_client_for):
    html = client_for(bob).get("/").content.decode()
    api = api_client_for(bob)
    slugs = list(Framework.objects.in_force().values_list("slug", flat=True))
    assert len(slugs) == 4
    for slug in slugs:
        summary = api.get(f"/api/v1/posture/{slug}/").json()["summary"]
        section = card(html, slug)
        for name in ("passing", "failing", "needs_evidence", "not_covered"):
            assert count(section, name) == summary[name], (slug, name)
        covered = summary["assessable"] - summary["not_covered"]
        assert count(section, "covered") == covered
        share = round(100 * summary["passing"] / covered)
        assert f"{share}%</strong> passing" in section
        assert "<svg" in section and 'role="img"' in section


def test_it_writes_the_share_formula_beside_the_share(estate, bob, client_for):
    response = client_for(bob).get("/")
    cis = next(c for c in response.context["overview"].cards if c.framework.slug == "cis-docker-1.6.0")
    s = cis.summary
    covered = s.assessable - s.not_covered
    share = round(100 * s.passing / covered)
    assert cis.share.formula == f"{share}% passing = {s.passing} passing / {covered} covered requirements"
    assert cis.share.not_covered == s.not_covered


def test_it_counts_not_covered_requirements_apart_and_never_hides_them(estate, bob, client_for):
    html = client_for(bob).get("/").content.decode()
    gdpr = card(html, "gdpr")
    assert count(gdpr, "not_covered") > 0
    assert "assessed outside Docker" in gdpr
    assert 'href="/posture/gdpr/?status=not_covered"' in gdpr


def test_it_is_the_landing_page_of_every_role(estate, alice, bob, carol, charlie):
    for user in (alice, bob, carol):
        client = Client()
        client.force_login(user)
        assert client.get("/").status_code == 200
    client = Client()
    client.force_login(charlie)
    denied = client.get("/")
    assert denied.status_code == 403
    assert "Your role does not allow this." in denied.content.decode()
    assert Client().get("/").url.startswith("/login/")


def test_it_flags_hosts_without_a_snapshot_for_longer_than_the_setting(estate, judged_host, bob, client_for, settings):
    judged_host("silent-1", {"2.5": ["pass"]}, at=NOW - datetime.timedelta(hours=30))
    settings.PLIMSOLL_STALE_HOURS = 26
    response = client_for(bob).get("/")
    overview = response.context["overview"]
    assert overview.stale_count == 1
    assert [h.hostname for h in overview.stale_hosts] == ["silent-1"]
    assert 'data-count="stale">1<' in response.content.decode()
    settings.PLIMSOLL_STALE_HOURS = 48
    assert client_for(bob).get("/").context["overview"].stale_count == 0


def test_it_lists_exceptions_and_evidence_expiring_within_30_days(estate, alice, carol, bob, client_for):
    def exception(days: int) -> int:
        e = request_exception(by=carol, control="2.5", scope_kind="all", justification="x", risk_rating="low",
                              expires_at=NOW + datetime.timedelta(days=days))
        approve_exception(e.pk, by=alice)
        return e.pk

    soon, later = exception(10), exception(EXPIRY_DAYS + 20)
    request_exception(by=carol, control="2.13", scope_kind="all", justification="not approved", risk_rating="low",
                      expires_at=NOW + datetime.timedelta(days=5))
    requirement = Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")

    def evidence(days: int) -> int:
        return upload_evidence(by=carol, kind="note", title=f"review {days}", description="ok", requirements=[requirement],
                               collected_at=NOW - datetime.timedelta(days=1),
                               valid_until=NOW + datetime.timedelta(days=days)).pk

    expiring, lasting = evidence(3), evidence(90)
    overview = client_for(bob).get("/").context["overview"]
    assert [e.pk for e in overview.expiring_exceptions] == [soon] and later != soon
    assert overview.expiring_exceptions_count == 1
    assert [e.pk for e in overview.expiring_evidence] == [expiring] and lasting != expiring
    assert overview.expiring_evidence_count == 1


def test_it_lists_evaluation_failures(estate, bob, client_for):
    from compliance.services import set_evaluation_status

    failed = estate[0]
    set_evaluation_status(failed, EvaluationStatus.FAILED, "KeyError: 'Config'")
    response = client_for(bob).get("/")
    overview = response.context["overview"]
    assert overview.failures_count == 1
    assert overview.failures[0].pk == failed.pk
    assert "KeyError: &#x27;Config&#x27;" in response.content.decode()


def test_it_refuses_a_trend_period_it_does_not_offer(estate, bob, client_for):
    response = client_for(bob).get("/?days=7")
    assert response.status_code == 400
    assert "days must be one of 30, 90, 365" in response.content.decode()
    assert client_for(bob).get("/?days=abc").status_code == 400
    for days in (30, 90, 365):
        assert client_for(bob).get(f"/?days={days}").context["overview"].days == days


def test_its_trend_reads_the_daily_records_and_ends_with_the_live_posture(estate, bob, client_for):
    today = NOW.date()
    for offset, passing in ((40, 1), (20, 2), (1, 3)):
        PostureRecord.objects.create(framework_slug="pci-dss-4.0.1", selector="", day=today - datetime.timedelta(days=offset),
                                     hosts=2, summary={"passing": passing, "failing": 9, "needs_evidence": 0, "not_covered": 0})
    month = client_for(bob).get("/?days=30").context["overview"]
    pci = next(c for c in month.cards if c.framework.slug == "pci-dss-4.0.1")
    assert [p.summary["passing"] for p in pci.points[:-1]] == [2, 3]
    assert pci.points[-1].day == today and pci.points[-1].summary["passing"] == pci.summary.passing
    quarter = client_for(bob).get("/?days=90").context["overview"]
    pci = next(c for c in quarter.cards if c.framework.slug == "pci-dss-4.0.1")
    assert [p.summary["passing"] for p in pci.points[:-1]] == [1, 2, 3]
    assert "<polyline" in str(pci.trend.svg)


def test_it_records_the_day_itself_in_the_embedded_mode(estate, bob, client_for, settings):
    settings.PLIMSOLL_BROKER_CONFIGURED = True
    client_for(bob).get("/")
    assert not PostureRecord.objects.exists()  # beat records with a broker
    settings.PLIMSOLL_BROKER_CONFIGURED = False
    client_for(bob).get("/")
    records = PostureRecord.objects.filter(day=datetime.datetime.now(datetime.UTC).date(), selector="")
    assert sorted(records.values_list("framework_slug", flat=True)) == sorted(
        Framework.objects.filter(is_current=True).values_list("slug", flat=True))
    api = client_for(bob).get("/api/v1/posture/pci-dss-4.0/").json()["summary"]
    recorded = records.get(framework_slug="pci-dss-4.0.1").summary
    assert {k: recorded[k] for k in ("passing", "failing", "needs_evidence", "not_covered", "hosts")} == {
        k: api[k] for k in ("passing", "failing", "needs_evidence", "not_covered", "hosts")}
    before = list(PostureRecord.objects.values_list("id", "recorded_at"))
    client_for(bob).get("/")
    assert list(PostureRecord.objects.values_list("id", "recorded_at")) == before  # once a day


@pytest.mark.parametrize("path", ["/", "/?days=365"])
def test_its_query_count_does_not_grow_with_the_fleet(path, estate, judged_host, bob, client_for,
                                                      django_assert_max_num_queries, settings):
    from django.core.cache import cache

    settings.PLIMSOLL_BROKER_CONFIGURED = True
    client = client_for(bob)
    client.get(path)
    cache.clear()  # measure the postures computed, not served from the cache
    with django_assert_max_num_queries(70) as small:
        assert client.get(path).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries) - 20):
        assert client.get(path).status_code == 200  # served from the cache: four postures fewer
    fleet(judged_host, 12)
    assert Host.objects.count() == 14
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200
