"""The evidence pages: list, upload form (content-checked), detail with history, download."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from compliance.evidence.models import Evidence
from tests.evidence.conftest import HTML, PDF

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def fields(name: str, content: bytes) -> dict:  # type: ignore[type-arg]
    now = timezone.now()
    return {
        "kind": "file", "title": "Pen test report", "requirements": "cis-docker-1.6.0:5.5 pci-dss-4.0:2.2.1",
        "collected_at": (now - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + datetime.timedelta(days=300)).strftime("%Y-%m-%dT%H:%M"),
        "file": SimpleUploadedFile(name, content),
    }


def test_it_uploads_through_the_form_and_shows_the_history(carol, catalogs):
    client = logged_in(carol)
    assert client.get("/evidence/new/").status_code == 200
    response = client.post("/evidence/new/", fields("pentest.pdf", PDF))
    evidence = Evidence.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evidence/{evidence.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert evidence.sha256 in page and "Upload" in page and "pci-dss-4.0:2.2.1" in page
    download = client.get(f"/evidence/{evidence.pk}/download/")
    assert download["Content-Disposition"].startswith("attachment;") and download["X-Content-Type-Options"] == "nosniff"


def test_it_rejects_html_dressed_as_a_pdf_in_the_form(carol, catalogs):
    response = logged_in(carol).post("/evidence/new/", fields("report.pdf", HTML))
    assert response.status_code == 400
    assert "not an allowed type" in response.content.decode()
    assert not Evidence.objects.exists()


def test_it_refuses_an_overlong_description_in_the_form(carol, catalogs):
    overlong = {**fields("a.pdf", PDF), "kind": "note", "file": "", "description": "x" * 10_001}
    response = logged_in(carol).post("/evidence/new/", overlong)
    assert response.status_code == 400 and "at most 10000 characters" in response.content.decode()
    assert not Evidence.objects.exists()


def test_it_keeps_auditors_off_the_form_and_strangers_off_the_list(bob, charlie, catalogs):
    assert logged_in(bob).get("/evidence/new/").status_code == 403
    assert logged_in(bob).post("/evidence/new/", fields("a.pdf", PDF)).status_code == 403
    assert logged_in(bob).get("/evidence/").status_code == 200
    assert logged_in(charlie).get("/evidence/").status_code == 403
    assert not Evidence.objects.exists()


def test_it_lists_evidence_in_a_bounded_number_of_queries(carol, bob, catalogs, django_assert_max_num_queries):
    client = logged_in(carol)
    for i in range(4):
        client.post("/evidence/new/", fields(f"r{i}.pdf", PDF))
    assert Evidence.objects.count() == 4
    reader = logged_in(bob)
    with django_assert_max_num_queries(8):
        response = reader.get("/evidence/")
    assert response.status_code == 200 and response.content.decode().count("Pen test report") == 4
