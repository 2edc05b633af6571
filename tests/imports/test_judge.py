"""Imported scans and signatures decide CIS 4.4, 4.5 and 4.12 at judge time, for the images of the real samples.

Every sample host runs localhost/local/busybox:1 (image id BUSYBOX_ID, repo digest BUSYBOX_DIGEST), and none sets
DOCKER_CONTENT_TRUST, so 4.5 fails. Snapshots are collected at T0 (2026-11-01); the scans are of 2026-11-28/29.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from compliance.exceptions.services import approve_exception, request_exception
from compliance.imports.services import import_evidence
from compliance.models import SitePolicy
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge, Target
from compliance.posture.services import ScopedHost, snapshot_rows
from tests.hosts.conftest import push  # noqa: F401  (the real-engine push fixture)
from tests.imports.conftest import COSIGN, TRIVY
from tests.posture.conftest import catalogs  # noqa: F401

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
AFTER_SCANS = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


def imported(by: Any, kind: str, path: Any, **extra: Any) -> Any:
    with time_machine.travel(AFTER_SCANS - DAY, tick=False):
        return import_evidence(kind, path.read_bytes(), by=by, name=path.name, **extra).file


def rows_of(snapshot: Any, at: datetime.datetime = AFTER_SCANS) -> dict[str, Any]:
    rows = snapshot_rows(snapshot, {}, Judge.at(at))
    return {row.result.control: row.verdict for row in rows if row.result.target_kind == "host"}


@pytest.fixture
def web(push: Any) -> Any:  # noqa: F811
    SitePolicy.objects.create(name="scans", data={"image_scan_max_age_days": 7})
    return push("web")


def test_without_imports_the_three_results_are_what_the_engine_said(web):
    verdicts = rows_of(web)
    assert verdicts["4.4"].status == PostureStatus.MANUAL and verdicts["4.4"].imported is None
    assert verdicts["4.12"].status == PostureStatus.MANUAL
    assert verdicts["4.5"].status == PostureStatus.FAIL


def test_a_clean_recent_scan_passes_4_4_and_names_the_scan_and_its_sha256(web, carol):
    scan = imported(carol, "trivy", TRIVY / "busybox_clean.json")
    verdict = rows_of(web)["4.4"]
    assert verdict.status == PostureStatus.PASS
    assert [(s.kind, s.sha256, s.import_id) for s in verdict.imported.sources] == [("trivy", scan.sha256, scan.pk)]
    assert scan.sha256 in verdict.imported.label and "busybox_clean.json" in verdict.imported.label
    assert "within 7 days" in verdict.imported.reason


def test_a_scan_older_than_the_policy_allows_fails_never_a_silent_pass(web, carol):
    imported(carol, "trivy", TRIVY / "busybox_clean.json")
    verdict = rows_of(web, AFTER_SCANS + 10 * DAY)["4.4"]
    assert verdict.status == PostureStatus.FAIL
    assert "localhost/local/busybox:1" in verdict.imported.reason and "days ago" in verdict.imported.reason


def test_the_newest_scan_decides_and_a_fixable_high_fails(web, carol):
    imported(carol, "trivy", TRIVY / "busybox_clean.json")
    vulnerable = imported(carol, "trivy", TRIVY / "busybox_vulnerable.json")
    verdict = rows_of(web)["4.4"]
    assert verdict.status == PostureStatus.FAIL
    assert "1 HIGH" in verdict.imported.reason
    assert [s.sha256 for s in verdict.imported.sources] == [vulnerable.sha256]


def test_a_failing_4_4_can_be_excepted(web, carol, alice):
    imported(carol, "trivy", TRIVY / "busybox_vulnerable.json")
    with time_machine.travel(AFTER_SCANS - DAY, tick=False):
        exception = request_exception(by=carol, control="4.4", scope_kind="all", justification="rebuild queued",
                                      risk_rating="low", expires_at=AFTER_SCANS + 30 * DAY)
        approve_exception(exception.pk, by=alice)
    verdict = rows_of(web)["4.4"]
    assert verdict.status == PostureStatus.EXCEPTED and verdict.exception.pk == exception.pk
    assert verdict.imported.status == PostureStatus.FAIL


def test_scans_decide_nothing_without_the_policy_field(push, carol):  # noqa: F811
    snapshot = push("web")
    imported(carol, "trivy", TRIVY / "busybox_vulnerable.json")
    assert rows_of(snapshot)["4.4"].status == PostureStatus.MANUAL


def test_an_import_made_after_the_moment_judged_changes_nothing_then(web, carol):
    imported(carol, "trivy", TRIVY / "busybox_clean.json")
    assert rows_of(web, AFTER_SCANS - 2 * DAY)["4.4"].status == PostureStatus.MANUAL


def test_a_scan_of_another_image_leaves_4_4_manual(web, carol):
    imported(carol, "trivy", TRIVY / "nginx_vulnerable.json")
    assert rows_of(web)["4.4"].status == PostureStatus.MANUAL


def test_a_cosign_verification_of_the_image_attests_4_12_and_stands_for_content_trust(web, carol):
    signed = imported(carol, "cosign", COSIGN / "verify_key.json", identity="SHA256:ops-release-key")
    verdicts = rows_of(web)
    for control in ("4.12", "4.5"):
        assert verdicts[control].status == PostureStatus.ATTESTED, control
        assert verdicts[control].imported.sources[0].sha256 == signed.sha256
        assert "SHA256:ops-release-key" in verdicts[control].imported.sources[0].detail
    assert "alternative evidence for 4.5" in verdicts["4.5"].imported.reason


def test_a_signature_of_another_digest_attests_nothing(web, carol):
    imported(carol, "cosign", COSIGN / "verify_keyless.json")
    verdicts = rows_of(web)
    assert verdicts["4.12"].status == PostureStatus.MANUAL
    assert verdicts["4.5"].status == PostureStatus.FAIL


def test_a_posture_host_row_is_judged_from_the_snapshot_standing_for_it(web, carol):
    """What posture's per-host loop asks: a host-level target and the ScopedHost with its standing snapshot."""
    imported(carol, "trivy", TRIVY / "busybox_vulnerable.json")
    judge = Judge.at(AFTER_SCANS)
    host = ScopedHost(web.host_id, "web", "", {}, web.pk)
    assert judge.verdict(Target("4.4", "manual", "host", ""), host).status == PostureStatus.FAIL
    assert judge.verdict(Target("4.4", "manual", "host", ""), None).status == PostureStatus.MANUAL


def test_judging_the_estate_reads_imports_once_whatever_the_hosts(push, carol, django_assert_max_num_queries):  # noqa: F811
    SitePolicy.objects.create(name="scans", data={"image_scan_max_age_days": 7})
    snapshots = [push(name) for name in ("web", "db", "build", "extra-1", "extra-2")]
    imported(carol, "trivy", TRIVY / "busybox_clean.json")
    judge = Judge.at(AFTER_SCANS)
    hosts = [ScopedHost(s.host_id, "", "", {}, s.pk) for s in snapshots]
    with django_assert_max_num_queries(8):
        statuses = {judge.verdict(Target("4.4", "manual", "host", ""), h).status for h in hosts}
    assert statuses == {PostureStatus.PASS}
