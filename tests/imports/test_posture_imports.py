"""Posture counts, the drill-down and the host page show what imported scans and signatures decide (needs the
_imported_row step in compliance/posture/services.py and the imports branch of templates/posture/_verdict.html)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from compliance.imports.services import import_evidence
from compliance.models import SitePolicy
from compliance.posture.services import compute_posture
from tests.hosts.conftest import push  # noqa: F401
from tests.imports.conftest import COSIGN, TRIVY
from tests.imports.test_judge import AFTER_SCANS
from tests.posture.conftest import catalogs  # noqa: F401

pytestmark = pytest.mark.django_db
CIS = "cis-docker-1.6.0"


@pytest.fixture
def estate(push: Any) -> list[Any]:  # noqa: F811
    SitePolicy.objects.create(name="scans", data={"image_scan_max_age_days": 7})
    return [push("web"), push("db")]


def counts(control: str) -> Any:
    return compute_posture(CIS, as_of=AFTER_SCANS).requirement(control)


def test_posture_counts_what_the_imports_decide(estate, carol):
    assert (counts("4.4").counts.manual, counts("4.4").status) == (2, "needs_evidence")
    with time_machine.travel(AFTER_SCANS, tick=False):
        import_evidence("trivy", (TRIVY / "busybox_clean.json").read_bytes(), by=carol)
        import_evidence("cosign", (COSIGN / "verify_key.json").read_bytes(), by=carol, identity="cosign.pub")
    scanned = counts("4.4")
    assert (scanned.counts.passing, scanned.counts.manual, scanned.status) == (2, 0, "passing")
    signed = counts("4.12")
    assert (signed.counts.attested, signed.status) == (2, "passing")
    trust = counts("4.5")
    assert (trust.counts.attested, trust.counts.failing, trust.status) == (2, 0, "passing")


def test_a_failing_scan_fails_the_requirement_and_the_drill_down_names_it(estate, carol, bob):
    with time_machine.travel(AFTER_SCANS, tick=False):
        scan = import_evidence("trivy", (TRIVY / "busybox_vulnerable.json").read_bytes(), by=carol,
                               name="busybox_vulnerable.json").file
    node = counts("4.4")
    assert (node.counts.failing, node.status, node.failing[0].hosts) == (2, "failing", 2)
    client = Client()
    client.force_login(bob)
    with time_machine.travel(AFTER_SCANS, tick=False):
        html = client.get(f"/posture/{CIS}/4.4/").content.decode()
        host_page = client.get(f"/hosts/{estate[0].host_id}/").content.decode()
    for page in (html, host_page):
        assert f"sha256 {scan.sha256}" in page and "busybox_vulnerable.json" in page and "1 HIGH" in page
