"""What a Trivy scan says of its image under the site policy (CIS 4.4), and the image status API."""

from __future__ import annotations

import datetime

import pytest

from compliance.engine import Policy, PolicyError
from compliance.imports.choices import ScanVerdict
from compliance.imports.services import import_evidence, scan_verdict
from compliance.models import SitePolicy
from tests.imports.conftest import BUSYBOX_ID, COSIGN, NGINX_DIGEST, TRIVY

pytestmark = pytest.mark.django_db
NGINX_ID = "sha256:3b25b682ea82b2db3cc4fd48db818be788ee3f902ac7378090cf2624ec2442df"


def scan_of(carol, name: str):
    return import_evidence("trivy", (TRIVY / name).read_bytes(), by=carol, name=name).file.scan


def at(scan, days: float) -> datetime.datetime:
    return scan.scanned_at + datetime.timedelta(days=days)


def test_without_a_policy_a_scan_decides_nothing(carol):
    scan = scan_of(carol, "busybox_clean.json")
    assert scan_verdict(scan, Policy(), at(scan, 1)).verdict == ScanVerdict.NO_POLICY


def test_fixable_critical_or_high_fails_and_the_reason_counts_them(carol):
    scan = scan_of(carol, "nginx_vulnerable.json")
    decision = scan_verdict(scan, Policy(image_scan_max_age_days=30), at(scan, 1))
    assert decision.verdict == ScanVerdict.FAIL
    assert "2 CRITICAL" in decision.reason and "1 HIGH" in decision.reason


def test_unfixed_or_lower_findings_pass(carol):
    scan = scan_of(carol, "busybox_clean.json")  # a MEDIUM without a fix and a fixable LOW
    assert scan_verdict(scan, Policy(image_scan_max_age_days=30), at(scan, 1)).verdict == ScanVerdict.PASS
    strict = Policy(image_scan_max_age_days=30, image_scan_fail_severities=("CRITICAL", "HIGH", "LOW"))
    assert scan_verdict(scan, strict, at(scan, 1)).verdict == ScanVerdict.FAIL


def test_a_scan_older_than_the_policy_allows_no_longer_counts(carol):
    scan = scan_of(carol, "busybox_clean.json")
    policy = Policy(image_scan_max_age_days=7)
    assert scan_verdict(scan, policy, at(scan, 6.9)).verdict == ScanVerdict.PASS
    decision = scan_verdict(scan, policy, at(scan, 8))
    assert decision.verdict == ScanVerdict.STALE and "8 days ago" in decision.reason


def test_the_policy_fields_are_checked():
    assert Policy.from_dict({"image_scan_fail_severities": ["critical"]}).image_scan_fail_severities == ("CRITICAL",)
    with pytest.raises(PolicyError, match="image_scan_fail_severities"):
        Policy.from_dict({"image_scan_fail_severities": ["SEVERE"]})
    with pytest.raises(PolicyError, match="image_scan_max_age_days"):
        Policy.from_dict({"image_scan_max_age_days": -1})


def test_the_image_status_api_matches_by_id_or_digest(carol, bob, api_client_for):
    SitePolicy.objects.create(name="scans", data={"image_scan_max_age_days": 36500})
    scan_of(carol, "nginx_vulnerable.json")
    scan_of(carol, "busybox_clean.json")
    import_evidence("cosign", (COSIGN / "verify_keyless.json").read_bytes(), by=carol)
    client = api_client_for(bob)
    by_digest = client.get("/api/v1/imports/image-status/", {"digest": NGINX_DIGEST}).json()
    assert by_digest["scan"]["verdict"] == "fail"
    assert [s["issuer"] for s in by_digest["signatures"]] == ["https://token.actions.githubusercontent.com"]
    by_id = client.get("/api/v1/imports/image-status/", {"image_id": NGINX_ID}).json()
    assert by_id["scan"]["import"] == by_digest["scan"]["import"]
    busybox = client.get("/api/v1/imports/image-status/", {"image_id": BUSYBOX_ID}).json()
    assert busybox["scan"]["verdict"] == "pass" and busybox["signatures"] == []
    unknown = client.get("/api/v1/imports/image-status/", {"image_id": "sha256:" + "0" * 64}).json()
    assert unknown["scan"] is None


@pytest.mark.parametrize(("params", "field"), [({}, "image_id"), ({"image_id": "nginx"}, "image_id"),
                                               ({"digest": "sha256:12"}, "digest")])
def test_the_image_status_api_names_a_bad_parameter(bob, api_client_for, params, field):
    response = api_client_for(bob).get("/api/v1/imports/image-status/", params)
    assert response.status_code == 400
    assert response.json()["detail"]["field"] == field
