"""POST /api/v1/imports/{trivy,cosign}/: managers import; a malformed file is a 400 naming the field, nothing stored."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from compliance.imports.models import ImageScan, ImageSignature, ImportedFile
from tests.imports.conftest import BUSYBOX_ID, COSIGN, NGINX_DIGEST, TRIVY

pytestmark = pytest.mark.django_db


def upload(client, kind: str, path, **fields):
    file = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/json")
    return client.post(f"/api/v1/imports/{kind}/", {"file": file, **fields}, format="multipart")


def test_it_stores_a_trivy_scan_with_its_sha256_and_what_it_covers(carol, api_client_for):
    path = TRIVY / "nginx_vulnerable.json"
    response = upload(api_client_for(carol), "trivy", path)
    assert response.status_code == 201, response.content
    body = response.json()
    stored = ImportedFile.objects.get(pk=body["id"])
    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == body["sha256"]
    assert bytes(stored.content) == path.read_bytes()
    assert stored.imported_by == carol
    scan = ImageScan.objects.get(source=stored)
    assert scan.image_id == "sha256:3b25b682ea82b2db3cc4fd48db818be788ee3f902ac7378090cf2624ec2442df"
    assert scan.digests == NGINX_DIGEST
    assert scan.counts["CRITICAL"] == {"total": 3, "fixable": 2}
    assert scan.counts["HIGH"] == {"total": 1, "fixable": 1}
    assert scan.counts["LOW"] == {"total": 1, "fixable": 0}
    assert scan.scanned_at.isoformat() == "2026-11-20T09:02:11.402913+00:00"
    assert [f["id"] for f in scan.fixable] == ["CVE-2024-45490", "CVE-2024-45491", "CVE-2024-2511"]
    assert AuditEvent.objects.filter(object_id=str(stored.pk)).exists()


def test_the_same_file_again_answers_the_first_import(carol, alice, api_client_for):
    first = upload(api_client_for(carol), "trivy", TRIVY / "busybox_clean.json")
    again = upload(api_client_for(alice), "trivy", TRIVY / "busybox_clean.json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert ImportedFile.objects.count() == 1
    assert ImageScan.objects.get().image_id == BUSYBOX_ID


def test_it_stores_a_keyless_cosign_verification_with_its_signer(carol, api_client_for):
    response = upload(api_client_for(carol), "cosign", COSIGN / "verify_keyless.json")
    assert response.status_code == 201, response.content
    signature = ImageSignature.objects.get()
    assert signature.digest == NGINX_DIGEST
    assert signature.reference == "registry.example.internal/web/nginx"
    assert signature.identity == "https://github.com/example/web/.github/workflows/release.yml@refs/tags/v1.27.2"
    assert signature.issuer == "https://token.actions.githubusercontent.com"
    assert signature.kind == "signature"


def test_a_key_signature_takes_the_identity_the_verification_required(carol, api_client_for):
    client = api_client_for(carol)
    refused = upload(client, "cosign", COSIGN / "verify_key.json")
    assert refused.status_code == 400
    assert refused.json()["detail"]["field"] == "identity"
    assert not ImportedFile.objects.exists()
    response = upload(client, "cosign", COSIGN / "verify_key.json", identity="cosign.pub sha256:9f86d081884c7d65")
    assert response.status_code == 201
    assert ImageSignature.objects.get().identity == "cosign.pub sha256:9f86d081884c7d65"


def test_it_stores_an_attestation_by_its_predicate_type(carol, api_client_for):
    response = upload(api_client_for(carol), "cosign", COSIGN / "attestation_slsa.jsonl",
                      identity="https://github.com/slsa-framework/slsa-github-generator", issuer="https://token.actions.githubusercontent.com")
    assert response.status_code == 201, response.content
    signature = ImageSignature.objects.get()
    assert (signature.digest, signature.kind) == (NGINX_DIGEST, "https://slsa.dev/provenance/v0.2")


@pytest.mark.parametrize(("kind", "name", "field", "reason"), [
    ("trivy", "malformed_truncated.json", "file", "not valid JSON"),
    ("trivy", "malformed_schema1.json", "$", "expected an object"),
    ("trivy", "malformed_severity.json", "Results[0].Vulnerabilities[2].Severity", "got 'SEVERE'"),
    ("trivy", "malformed_no_image_id.json", "Metadata.ImageID", "image id"),
    ("trivy", "malformed_filesystem.json", "ArtifactType", "container image"),
    ("trivy", "../cosign/verify_keyless.json", "$", "expected an object"),
    ("cosign", "malformed_digest.json", "$[0].critical.image.docker-manifest-digest", "sha256"),
    ("cosign", "malformed_empty_array.json", "$", "no verified signature"),
    ("cosign", "malformed_attestation_payload.jsonl", "line 1.payload", "base64"),
    ("cosign", "../trivy/busybox_clean.json", "line 1", "not valid JSON"),
])
def test_a_malformed_file_is_a_400_naming_the_field_and_nothing_is_stored(carol, api_client_for, kind, name, field, reason):
    folder = TRIVY if kind == "trivy" else COSIGN
    response = upload(api_client_for(carol), kind, folder / name)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"]["field"] == field
    assert reason in body["detail"]["reason"]
    assert not ImportedFile.objects.exists() and not ImageScan.objects.exists() and not ImageSignature.objects.exists()


def test_a_request_without_a_file_names_it(carol, api_client_for):
    response = api_client_for(carol).post("/api/v1/imports/trivy/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == {"field": "file", "reason": "required"}


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_only_managers_and_admins_import(who, request, api_client_for):
    user = request.getfixturevalue(who)
    response = upload(api_client_for(user), "trivy", TRIVY / "busybox_clean.json")
    assert response.status_code == 403
    assert not ImportedFile.objects.exists()


def test_an_admin_imports(alice, api_client_for):
    assert upload(api_client_for(alice), "trivy", TRIVY / "busybox_clean.json").status_code == 201


def test_anonymous_is_refused():
    from rest_framework.test import APIClient

    file = SimpleUploadedFile("x.json", (TRIVY / "busybox_clean.json").read_bytes())
    assert APIClient().post("/api/v1/imports/trivy/", {"file": file}, format="multipart").status_code == 401


def test_a_nul_character_is_refused_not_a_server_error(carol, api_client_for):
    doc = (TRIVY / "busybox_clean.json").read_text().replace('"localhost/local/busybox:1"', '"busy\\u0000box"', 1)
    file = SimpleUploadedFile("nul.json", doc.encode(), content_type="application/json")
    response = api_client_for(carol).post("/api/v1/imports/trivy/", {"file": file}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == "$.ArtifactName"
    assert not ImportedFile.objects.exists()
