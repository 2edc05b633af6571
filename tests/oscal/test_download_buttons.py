"""The OSCAL download links on the posture page of a framework and on a framework report's page."""

from __future__ import annotations

import datetime
import html
import json
import re

import pytest
from django.test import Client
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.poam import PlanOfActionAndMilestones

from compliance.reports.models import Report
from tests.oscal.conftest import AS_OF

pytestmark = pytest.mark.django_db


def links(page: bytes, path: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'href="({re.escape(path)}[^"]*)"', page.decode())]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_posture_page_links_the_exports_of_what_it_shows(estate, bob):
    client = logged_in(bob)
    page = client.get("/posture/pci-dss-4.0.1/", {"scope": "pci=cde", "as_of": AS_OF.date().isoformat()})
    assert page.status_code == 200
    [results] = links(page.content, "/api/v1/oscal/assessment-results/")
    [plan] = links(page.content, "/api/v1/oscal/poam/")
    assert "framework=pci-dss-4.0.1" in results and "scope=pci%3Dcde" in results
    answer = client.get(results)
    assert answer.status_code == 200 and answer["Content-Disposition"].startswith("attachment;")
    model = AssessmentResults.model_validate(json.loads(answer.content)["assessment-results"])
    end_of_day = datetime.datetime.combine(AS_OF.date(), datetime.time.max, tzinfo=datetime.UTC)
    assert end_of_day - model.results[0].end < datetime.timedelta(milliseconds=1)  # OSCAL times keep milliseconds
    PlanOfActionAndMilestones.model_validate(json.loads(client.get(plan).content)["plan-of-action-and-milestones"])


def test_the_old_version_says_what_supersedes_it(catalogs, bob):
    page = logged_in(bob).get("/posture/pci-dss-4.0/").content.decode()
    assert "Superseded by" in page and 'href="/posture/pci-dss-4.0.1/"' in page


def test_a_framework_report_links_the_exports_of_its_period(estate, alice, bob):
    start, end = AS_OF - datetime.timedelta(days=3), AS_OF
    report = Report.objects.create(kind="framework", framework_slug="pci-dss-4.0.1",
                                   framework_urn="urn:plimsoll:framework:pci-dss-4.0.1", framework_revision=1,
                                   scope="pci=cde", as_of=end, period_start=start, period_end=end, requested_by=alice)
    client = logged_in(bob)
    page = client.get(f"/reports/{report.pk}/")
    assert page.status_code == 200
    [results] = links(page.content, "/api/v1/oscal/assessment-results/")
    answer = client.get(results)
    assert answer.status_code == 200, answer.content
    result = AssessmentResults.model_validate(json.loads(answer.content)["assessment-results"]).results[0]
    assert (result.start, result.end) == (start, end)
    [plan] = links(page.content, "/api/v1/oscal/poam/")
    assert client.get(plan).status_code == 200


def test_a_register_report_has_no_oscal_link(catalogs, alice):
    report = Report.objects.create(kind="exceptions", period_start=AS_OF - datetime.timedelta(days=3), period_end=AS_OF,
                                   requested_by=alice)
    page = logged_in(alice).get(f"/reports/{report.pk}/")
    assert page.status_code == 200 and not links(page.content, "/api/v1/oscal/")
