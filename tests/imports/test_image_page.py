"""The images page shows each image's imported evidence: the newest Trivy scan with its 4.4 verdict, and the Cosign
signatures of its digests, each with the sha256 of the imported file; the export carries them too."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.test import Client

from compliance.imports.services import import_evidence
from compliance.models import SitePolicy
from tests.hosts.conftest import push  # noqa: F401
from tests.imports.conftest import COSIGN, TRIVY
from tests.imports.test_judge import AFTER_SCANS
from tests.posture.conftest import catalogs  # noqa: F401

pytestmark = pytest.mark.django_db


def page(user: Any, path: str = "/images/") -> Any:
    client = Client()
    client.force_login(user)
    with time_machine.travel(AFTER_SCANS, tick=False):
        return client.get(path)


@pytest.fixture
def hosts(push: Any) -> list[Any]:  # noqa: F811
    SitePolicy.objects.create(name="scans", data={"image_scan_max_age_days": 7})
    return [push("web"), push("db")]


def test_without_imports_the_column_says_none(hosts, bob):
    response = page(bob)
    assert response.status_code == 200
    assert all(i.imports is None for i, _, _ in response.context["rows"])


def test_each_image_shows_its_scan_verdict_and_signatures_with_their_sha256(hosts, carol, bob):
    with time_machine.travel(AFTER_SCANS, tick=False):
        scan = import_evidence("trivy", (TRIVY / "busybox_vulnerable.json").read_bytes(), by=carol).file
        signed = import_evidence("cosign", (COSIGN / "verify_key.json").read_bytes(), by=carol,
                                 identity="SHA256:ops-release-key").file
    response = page(bob)
    html = response.content.decode()
    assert html.count('data-scan-verdict="fail"') == 2  # the busybox image on web and on db
    assert f'title="{scan.sha256}"' in html and f'data-signed="{signed.sha256}"' in html
    assert "1 HIGH" in html and "SHA256:ops-release-key" in html
    records = list(csv.DictReader(io.StringIO(b"".join(page(bob, "/images/?export=csv").streaming_content).decode())))
    assert all(scan.sha256 in r["trivy_scan"] and signed.sha256 in r["cosign_signatures"] for r in records)
    assert len(records) == 2
