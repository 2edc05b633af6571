"""/api/v1/evidence/: multipart upload checked by content and size, links and notes, downloads, roles."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from compliance.evidence.models import Evidence
from tests.evidence.conftest import HTML, PDF, PNG, docx

pytestmark = pytest.mark.django_db

URL = "/api/v1/evidence/"


def form(**overrides):  # type: ignore[no-untyped-def]
    now = timezone.now()
    body = {
        "kind": "file", "title": "Quarterly access review", "requirements": ["cis-docker-1.6.0:5.5", "pci-dss-4.0:2.2.1"],
        "collected_at": (now - datetime.timedelta(days=2)).isoformat(),
        "valid_until": (now + datetime.timedelta(days=90)).isoformat(),
        "file": SimpleUploadedFile("review.pdf", PDF, content_type="application/pdf"),
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def test_it_stores_an_uploaded_pdf_with_its_hash(client_of, carol, catalogs):
    response = client_of(carol).post(URL, form(), format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest() and body["content_type"] == "application/pdf"
    assert sorted(r["key"] for r in body["requirements"]) == ["cis-docker-1.6.0:5.5", "pci-dss-4.0:2.2.1"]
    evidence = Evidence.objects.get(pk=body["id"])
    assert evidence.uploaded_by == carol and evidence.original_name == "review.pdf" and evidence.size_bytes == len(PDF)
    assert evidence.file.name.startswith("evidence/") and evidence.file.name.endswith(".pdf")
    assert "review" not in evidence.file.name
    with evidence.file.open("rb") as fh:
        assert fh.read() == PDF
    assert evidence.collected_at < evidence.uploaded_at
    event = AuditEvent.objects.get(action="upload")
    assert event.actor == carol and event.changes["sha256"] == [None, evidence.sha256]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("report.pdf", HTML, "unsupported_type"),
        ("report.pdf", PNG, "type_mismatch"),
        ("notes.txt", PDF, "type_mismatch"),
        ("report.html", HTML, "unsupported_type"),
        ("data.bin", b"\x00\x01\x02binary", "unsupported_type"),
        ("page.txt", b"hello\n<script>alert(1)</script>", "unsupported_type"),
        ("empty.txt", b"", "invalid"),  # DRF refuses an empty file itself
    ],
)
def test_it_rejects_a_file_whose_content_does_not_match_its_type(client_of, carol, catalogs, name, content, code):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client_of(carol).post(URL, form(file=upload), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == code and "file" in response.json()["detail"]
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("shot.png", PNG, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("hosts.csv", b"host,owner\nweb01,ops\n", "text/plain"),
        ("export.json", b'{"ok": true}', "application/json"),
        ("policy.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_it_accepts_the_allowed_types(client_of, carol, catalogs, name, content, content_type):
    response = client_of(carol).post(URL, form(file=SimpleUploadedFile(name, content)), format="multipart")
    assert response.status_code == 201, response.json()
    assert Evidence.objects.get().content_type == content_type


def test_it_rejects_an_oversized_file(client_of, carol, catalogs, settings):
    settings.PLIMSOLL_EVIDENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)
    response = client_of(carol).post(URL, form(file=big), format="multipart")
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    huge = SimpleUploadedFile("huge.pdf", PDF + b"0" * 300 * 1024)
    assert client_of(carol).post(URL, form(file=huge), format="multipart").status_code == 413
    assert not Evidence.objects.exists()


def test_it_stores_links_and_notes(client_of, carol, catalogs, web):
    link = client_of(carol).post(URL, form(kind="link", file=None, url="https://wiki.example.test/runbook"), format="multipart")
    assert link.status_code == 201, link.json()
    note = client_of(carol).post(
        URL, form(kind="note", file=None, description="Checked by hand on web01", scope_host=web.pk), format="multipart"
    )
    assert note.status_code == 201, note.json()
    assert note.json()["scope"] == "host web01" and note.json()["download_url"] is None
    assert Evidence.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"requirements": ["cis-docker-1.6.0:9.9"]}, "requirements"),
        ({"requirements": ["³"]}, "requirements"),
        ({"requirements": ["9" * 40]}, "requirements"),
        ({"requirements": []}, "requirements"),
        ({"kind": "link", "file": None}, "url"),
        ({"kind": "note", "file": None}, "description"),
        ({"kind": "note", "file": None, "description": "x" * 10_001}, "description"),
        ({"scope_selector": "bad term!"}, "scope_selector"),
        ({"valid_until": "2000-01-01T00:00:00Z"}, "valid_until"),
        ({"collected_at": None}, "collected_at"),
    ],
)
def test_it_names_the_bad_field(client_of, carol, catalogs, overrides, field):
    response = client_of(carol).post(URL, form(**overrides), format="multipart")
    assert response.status_code == 400, response.json()
    assert field in response.json()["detail"]
    assert not Evidence.objects.exists()


def test_it_refuses_an_overlong_description_in_a_change(client_of, carol, catalogs):
    evidence_id = client_of(carol).post(URL, form(kind="note", file=None, description="Fine"), format="multipart").json()["id"]
    response = client_of(carol).patch(f"{URL}{evidence_id}/", {"description": "x" * 10_001}, format="json")
    assert response.status_code == 400 and "10000" in response.json()["detail"]["description"][0]
    assert Evidence.objects.get(pk=evidence_id).description == "Fine"


def test_it_lets_only_managers_upload_and_only_roles_read(client_of, bob, charlie, catalogs):
    response = client_of(bob).post(URL, form(), format="multipart")
    assert response.status_code == 403
    assert client_of(bob).get(URL).status_code == 200
    assert client_of(charlie).get(URL).status_code == 403
    assert not Evidence.objects.exists()


def test_it_downloads_as_an_attachment_never_inline(client_of, carol, bob, charlie, catalogs):
    evidence_id = client_of(carol).post(URL, form(), format="multipart").json()["id"]
    response = client_of(bob).get(f"{URL}{evidence_id}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and "review.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF
    assert client_of(charlie).get(f"{URL}{evidence_id}/download/").status_code == 403
    assert AuditEvent.objects.filter(action="download", actor=bob).count() == 1


def test_it_changes_validity_and_records_the_change(client_of, carol, bob, catalogs):
    evidence_id = client_of(carol).post(URL, form(), format="multipart").json()["id"]
    until = (timezone.now() + datetime.timedelta(days=10)).replace(microsecond=0)
    response = client_of(carol).patch(f"{URL}{evidence_id}/", {"valid_until": until.isoformat(), "kind": "note"}, format="json")
    assert response.status_code == 200, response.json()
    evidence = Evidence.objects.get(pk=evidence_id)
    assert evidence.valid_until == until and evidence.kind == "file"
    change = AuditEvent.objects.get(action="change")
    assert change.changes["valid_until"][1] == until.isoformat()
    assert client_of(bob).patch(f"{URL}{evidence_id}/", {"title": "x"}, format="json").status_code == 403
    assert client_of(carol).delete(f"{URL}{evidence_id}/").status_code == 405


def test_it_lists_evidence_in_a_bounded_number_of_queries(client_of, carol, bob, catalogs, django_assert_max_num_queries):
    for i in range(5):
        client_of(carol).post(URL, form(title=f"review {i}"), format="multipart")
    client = client_of(bob)
    with django_assert_max_num_queries(7):
        response = client.get(URL)
    assert response.status_code == 200 and response.json()["count"] == 5
    assert client.get(f"{URL}?control=5.5").json()["count"] == 5
    assert client.get(f"{URL}?control=4.1").json()["count"] == 0
    assert client.get(f"{URL}?framework=pci-dss-4.0&valid=true").json()["count"] == 5
