"""Posture pages: every framework's chart on the index; the requirement tree with its status filter, search and
exports; the drill-down with its status and host filters, prefilled actions and exports; costs flat in the fleet."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from frameworks.models import Framework, Requirement
from inventory.models import Host

pytestmark = pytest.mark.django_db
NOW = datetime.datetime.now(datetime.UTC)
WIDE = "/posture/pci-dss-4.0/2.2.1/"  # PCI DSS 2.2.1 maps 117 CIS checks, 1.1.2, 2.5, 4.4, 5.9 and 5.24 among them


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def estate(judged_host):
    cde = judged_host("cde-1", {"1.1.2": ["manual"], "2.5": ["fail"], "5.24": ["fail@web-1"], "5.9": ["fail@web-1"],
                                "4.4": ["pass@web-1", "fail@web-2", "fail@api-1", "fail@stopped"]}, labels={"pci": "cde"},
                      at=NOW - datetime.timedelta(hours=1))
    office = judged_host("office-1", {"1.1.2": ["manual"], "2.5": ["pass"], "4.4": ["fail@web-3"]},
                         at=NOW - datetime.timedelta(hours=1))
    return cde, office


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def tree_refs(html: str) -> list[str]:
    return re.findall(r'data-ref="([^"]+)"', html)


def drill_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-result="(\d+)"', html)]


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()
                                           if response.streaming else response.content.decode())))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_index_shows_every_framework_with_its_chart(estate, bob):
    html = client(bob).get("/posture/").content.decode()
    assert "Open the framework" not in html
    for slug in Framework.objects.in_force().values_list("slug", flat=True):
        start = html.index(f'data-slug="{slug}"')
        section = html[start:html.index("</section>", start)]
        assert "<svg" in section and "covered requirement" in section
    assert "General Data Protection Regulation (EU) 2016/679" in html
    assert "Regulation Regulation" not in html


def test_the_tree_filters_by_status_and_searches_ids_and_titles(estate, bob):
    c = client(bob)
    everything = tree_refs(c.get("/posture/pci-dss-4.0/").content.decode())
    assert len(everything) == Requirement.objects.filter(framework__slug="pci-dss-4.0").count()
    failing = c.get("/posture/pci-dss-4.0/?status=failing")
    posture = failing.context["posture"]
    status = {r.ref_id: r.status for r in posture.requirements}
    refs = tree_refs(failing.content.decode())
    assert refs and all(status[ref] == "failing" for ref in refs)
    assert len(refs) == sum(1 for s in status.values() if s == "failing")
    found = tree_refs(c.get("/posture/pci-dss-4.0/?q=2.2.").content.decode())
    assert found and all("2.2." in ref or "2.2." in posture.requirement(ref).title for ref in found)
    titled = tree_refs(c.get("/posture/pci-dss-4.0/?q=PASSWORD").content.decode())
    assert titled and all("password" in posture.requirement(ref).title.lower() for ref in titled)
    nothing = c.get("/posture/pci-dss-4.0/?q=no-such-requirement-anywhere")
    assert tree_refs(nothing.content.decode()) == [] and "No requirement matches these filters" in nothing.content.decode()


def test_the_tree_groups_requirements_in_collapsible_sections(estate, bob):
    html = client(bob).get("/posture/gdpr/").content.decode()
    assert html.count('<details class="group"') == 11  # GDPR's 11 chapters
    assert "<summary>" in html


@pytest.mark.parametrize("query", ["", "status=failing", "q=2.2", "status=needs_evidence&scope=pci%3Dcde"])
def test_the_tree_exports_the_rows_the_page_shows(estate, bob, query):
    c = client(bob)
    page = tree_refs(c.get(f"/posture/pci-dss-4.0/?{query}").content.decode())
    as_csv = c.get(f"/posture/pci-dss-4.0/?{query}&export=csv")
    assert as_csv["Content-Type"].startswith("text/csv")
    assert [row["ref_id"] for row in csv_rows(as_csv)] == page
    as_xlsx = xlsx_rows(c.get(f"/posture/pci-dss-4.0/?{query}&export=xlsx"))
    assert as_xlsx[0][0] == "ref_id" and [row[0] for row in as_xlsx[1:]] == page


def test_the_tree_answers_bad_filters_with_a_form_error(estate, bob):
    c = client(bob)
    bad = c.get("/posture/pci-dss-4.0/?status=broken")
    assert bad.status_code == 400 and "status: one of failing" in bad.content.decode()
    assert c.get("/posture/pci-dss-4.0/?export=pdf").status_code == 400
    assert c.get("/posture/pci-dss-4.0/?scope=%3D%3D").status_code == 400
    assert c.get("/posture/pci-dss-4.0/?q=" + "x" * 300).status_code == 400


def test_the_drill_down_lists_checks_in_natural_order(estate, bob):
    rows = client(bob).get(WIDE).context["rows"]
    controls = [row.result.control for row in rows]
    assert controls.index("5.9") < controls.index("5.24")
    assert controls == sorted(controls, key=lambda c: tuple(int(p) for p in c.split(".")))


def test_the_drill_down_filters_by_posture_status_and_host(estate, alice, carol, bob):
    exception = request_exception(by=carol, control="4.4", scope_kind="container", scope_container_pattern="web-*",
                                  justification="x", risk_rating="low", expires_at=NOW + datetime.timedelta(days=30))
    approve_exception(exception.pk, by=alice)
    upload_evidence(by=carol, kind="note", title="members reviewed", description="ok", scope_host=estate[0].host,
                    collected_at=NOW - datetime.timedelta(days=1), valid_until=NOW + datetime.timedelta(days=30),
                    requirements=[Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")])
    c = client(bob)

    def listed(query: str) -> list[tuple[str, str, str]]:
        rows = c.get(f"{WIDE}?{query}").context["rows"]
        return [(r.result.control, r.result.target_name, r.status) for r in rows]

    everything = listed("")
    assert ("4.4", "web-2", "excepted") in everything and ("4.4", "web-3", "excepted") in everything
    assert listed("status=excepted") == [row for row in everything if row[2] == "excepted"]
    failing = listed("status=fail")
    assert failing == [row for row in everything if row[2] == "fail"]
    assert ("4.4", "api-1", "fail") in failing and not any(row[1] == "web-2" for row in failing)
    assert listed("status=attested") == [("1.1.2", "cde-1", "attested")]
    assert listed("status=manual") == [("1.1.2", "office-1", "manual")]
    office = listed("host=OFFICE-1")
    assert {row[1] for row in office} == {"office-1", "web-3"}
    assert listed("host=office-1&status=excepted") == [("4.4", "web-3", "excepted")]
    unknown = c.get(f"{WIDE}?host=nowhere")
    assert unknown.status_code == 400 and "no host named" in unknown.content.decode()
    assert c.get(f"{WIDE}?status=pass").status_code == 400


@pytest.mark.parametrize("query", ["", "status=fail", "status=manual", "host=cde-1", "status=fail&host=office-1"])
def test_the_drill_down_exports_the_rows_the_page_shows(estate, bob, query):
    c = client(bob)
    page = drill_ids(c.get(f"{WIDE}?{query}").content.decode())
    rows = csv_rows(c.get(f"{WIDE}?{query}&export=csv"))
    assert [int(row["result_id"]) for row in rows] == page
    sheet = xlsx_rows(c.get(f"{WIDE}?{query}&export=xlsx"))
    assert [row[-1] for row in sheet[1:]] == page


@pytest.mark.parametrize("query", ["", "status=fail", "status=excepted", "host=cde-1", "include_stopped=true",
                                   "include_stopped=true&status=fail&host=cde-1"])
def test_the_drill_down_pages_and_exports_every_page(estate, alice, carol, bob, monkeypatch, query):
    from compliance.posture import views

    exception = request_exception(by=carol, control="4.4", scope_kind="container", scope_container_pattern="web-*",
                                  justification="x", risk_rating="low", expires_at=NOW + datetime.timedelta(days=30))
    approve_exception(exception.pk, by=alice)
    c = client(bob)
    everything = drill_ids(c.get(f"{WIDE}?{query}").content.decode())
    monkeypatch.setattr(views, "DRILL_DOWN_PAGE", 2)
    first = c.get(f"{WIDE}?{query}")
    pages = first.context["page"].paginator.num_pages
    paged = [i for n in range(1, pages + 1) for i in drill_ids(c.get(f"{WIDE}?{query}&page={n}").content.decode())]
    assert paged == everything and len(everything) == first.context["page"].paginator.count
    assert [int(row["result_id"]) for row in csv_rows(c.get(f"{WIDE}?{query}&export=csv"))] == everything


def test_managers_get_prefilled_actions_on_failing_and_manual_rows(estate, carol, bob):
    html = client(carol).get(f"{WIDE}?host=cde-1").content.decode()
    host = estate[0].host_id
    assert (f'/exceptions/new/?control=2.5&amp;scope_kind=host&amp;scope_host={host}&amp;requirement=pci-dss-4.0%3A2.2.1'
            in html)
    assert f"/evidence/new/?requirements=pci-dss-4.0%3A2.2.1+cis-docker-1.6.0%3A1.1.2&amp;scope_host={host}" in html
    assert "Request an exception" not in client(bob).get(WIDE).content.decode()  # auditors change nothing

    form = client(carol).get(f"/exceptions/new/?control=2.5&scope_kind=host&scope_host={host}&requirement=pci-dss-4.0:2.2.1")
    page = form.content.decode()
    assert form.context["form"].initial == {"control": "2.5", "scope_kind": "host", "scope_host": str(host)}
    assert 'value="2.5"' in page and f'<option value="{host}" selected>' in page
    evidence = client(carol).get(f"/evidence/new/?requirements=pci-dss-4.0:2.2.1+cis-docker-1.6.0:1.1.2&scope_host={host}")
    assert evidence.context["form"].initial == {"requirements": "pci-dss-4.0:2.2.1 cis-docker-1.6.0:1.1.2",
                                                "scope_host": str(host)}


@pytest.mark.parametrize("path", ["/posture/", "/posture/pci-dss-4.0/", "/posture/pci-dss-4.0/?status=failing&q=2",
                                  WIDE, f"{WIDE}?status=fail", f"{WIDE}?export=csv"])
def test_their_query_count_does_not_grow_with_the_fleet(path, estate, judged_host, alice, carol, bob,
                                                        django_assert_max_num_queries):
    exception = request_exception(by=carol, control="4.4", scope_kind="container", scope_container_pattern="web-*",
                                  justification="x", risk_rating="low", expires_at=NOW + datetime.timedelta(days=30))
    approve_exception(exception.pk, by=alice)
    c = client(bob)
    with django_assert_max_num_queries(62) as small:
        response = c.get(path)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    for i in range(10):
        judged_host(f"more-{i}", {"2.5": ["fail"], "4.4": [f"fail@web-{i}", f"fail@api-{i}"], "1.1.2": ["manual"]},
                    at=NOW - datetime.timedelta(hours=2))
    assert Host.objects.count() == 12
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = c.get(path)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)


def test_the_index_names_a_superseded_catalog_apart_and_a_report_can_still_be_requested_on_it(estate, bob):
    html = client(bob).get("/posture/").content.decode()
    assert 'data-slug="pci-dss-4.0"' not in html and 'data-slug="pci-dss-4.0.1"' in html
    assert "Superseded catalogs" in html and 'href="/posture/pci-dss-4.0/"' in html
    from compliance.reports.forms import ReportRequestForm

    labels = dict(ReportRequestForm().fields["framework"].choices)
    assert labels["pci-dss-4.0"].endswith("(superseded)") and not labels["pci-dss-4.0.1"].endswith("(superseded)")
