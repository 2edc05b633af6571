"""The /imports/ page (upload for managers, the list for every role) and `manage.py import_evidence KIND FILE`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from compliance.imports.models import ImageScan, ImportedFile
from tests.imports.conftest import COSIGN, TRIVY

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, kind: str, path, **fields):
    file = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/json")
    return client.post("/imports/", {"kind": kind, "file": file, **fields})


def test_a_manager_uploads_and_every_role_reads_the_list(carol, bob):
    response = post(client_for(carol), "trivy", TRIVY / "nginx_vulnerable.json")
    assert response.status_code == 302
    assert ImageScan.objects.get().artifact_name == "registry.example.internal/web/nginx:1.27.2"
    page = client_for(bob).get("/imports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "registry.example.internal/web/nginx:1.27.2" in html
    assert 'data-verdict="no_policy"' in html
    assert 'enctype="multipart/form-data"' not in html  # an auditor sees no upload form


def test_a_malformed_upload_names_the_field_and_stores_nothing(carol):
    response = post(client_for(carol), "trivy", TRIVY / "malformed_severity.json")
    assert response.status_code == 400
    assert "Results[0].Vulnerabilities[2].Severity" in response.content.decode()
    assert not ImportedFile.objects.exists()


def test_a_key_signature_without_identity_points_at_the_identity_field(carol):
    response = post(client_for(carol), "cosign", COSIGN / "verify_key.json")
    assert response.status_code == 400
    assert 'data-field="identity"' in response.content.decode()
    assert post(client_for(carol), "cosign", COSIGN / "verify_key.json", identity="cosign.pub").status_code == 302


def test_an_auditor_cannot_upload(bob):
    assert post(client_for(bob), "trivy", TRIVY / "busybox_clean.json").status_code == 403
    assert not ImportedFile.objects.exists()


def test_the_command_imports_and_prints_what_it_stored(carol):
    out = StringIO()
    call_command("import_evidence", "trivy", str(TRIVY / "busybox_clean.json"), "--user", "carol", stdout=out)
    assert '"created": true' in out.getvalue()
    assert ImportedFile.objects.get().imported_by == carol


@pytest.mark.parametrize(("args", "reason"), [
    (["trivy", str(TRIVY / "malformed_no_image_id.json"), "--user", "carol"], "Metadata.ImageID"),
    (["trivy", str(TRIVY / "absent.json"), "--user", "carol"], "cannot read"),
    (["trivy", str(TRIVY / "busybox_clean.json"), "--user", "nobody"], "no user"),
    (["trivy", str(TRIVY / "busybox_clean.json"), "--user", "bob"], "security manager"),
])
def test_the_command_exits_2_with_the_reason_and_stores_nothing(carol, bob, args, reason):
    with pytest.raises(CommandError, match=reason) as info:
        call_command("import_evidence", *args, stdout=StringIO())
    assert info.value.returncode == 2
    assert not ImportedFile.objects.exists()


def test_a_stored_import_cannot_change(carol):
    from compliance.imports.models import ImportIsImmutable

    call_command("import_evidence", "trivy", str(TRIVY / "busybox_clean.json"), "--user", "carol", stdout=StringIO())
    stored = ImportedFile.objects.get()
    stored.original_name = "renamed.json"
    with pytest.raises(ImportIsImmutable):
        stored.save()
