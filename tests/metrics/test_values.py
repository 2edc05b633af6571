"""What /metrics reports: the posture of every framework and assessment as compute_posture gives it, hosts by
freshness, failing targets per CIS recommendation, what is about to lapse, and the evaluation queue and runs."""

from __future__ import annotations

import datetime

import pytest
from django.test.utils import CaptureQueriesContext

from compliance.engine import BENCHMARK
from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from compliance.models import Evaluation
from compliance.posture.choices import RequirementStatus
from compliance.posture.models import Assessment
from compliance.posture.services import compute_posture
from frameworks.models import Framework, Requirement
from inventory.choices import EvaluationStatus
from inventory.models import Host
from inventory.services import ingest_snapshot

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def estate(judged_host):
    """cde-1 (pci=cde) fails 2.5 on the host and 5.5 on a running and a stopped container; office-1 passes;
    silent-1 last reported 30 hours ago; never-1 is enrolled without a snapshot."""
    hosts = [
        judged_host("cde-1", {"1.1.2": ["manual"], "2.5": ["fail"], "5.5": ["pass@web-1", "fail@web-2", "fail@stopped"]},
                    labels={"pci": "cde"}, at=NOW - datetime.timedelta(hours=1)),
        judged_host("office-1", {"1.1.2": ["pass"], "2.5": ["pass"], "5.5": ["pass@web-3"]}, labels={},
                    at=NOW - datetime.timedelta(hours=2)),
        judged_host("silent-1", {"2.5": ["fail"]}, labels={}, at=NOW - datetime.timedelta(hours=30)),
    ]
    Host.objects.create(machine_id="never-1", hostname="never-1")
    Assessment.objects.create(name="PCI CDE", framework_slug="pci-dss-4.0", selector="pci=cde")
    return hosts


def test_it_reports_every_framework_and_assessment_as_the_posture_computes_it(estate, scrape):
    result = scrape()
    current = set(Framework.objects.filter(is_current=True).values_list("slug", flat=True))
    reported = {(s["framework"], s["scope"]) for s in result.series("plimsoll_requirements")}
    assert reported == {(slug, "") for slug in current} | {("pci-dss-4.0", "pci=cde")}
    for slug, scope in reported:
        summary = compute_posture(slug, scope).summary
        for status in RequirementStatus:
            assert result.value("plimsoll_requirements", framework=slug, scope=scope, status=status.value) == getattr(
                summary, status.value), (slug, scope, status)
        assert result.value("plimsoll_scope_hosts", framework=slug, scope=scope, judged="no") == summary.hosts_without_results
    assert result.value("plimsoll_requirements", framework=BENCHMARK, scope="", status="failing") == 2
    assert result.value("plimsoll_scope_hosts", framework="pci-dss-4.0", scope="pci=cde", judged="yes") == 1
    assert result.value("plimsoll_scope_hosts", framework=BENCHMARK, scope="", judged="yes") == 3
    assert result.value("plimsoll_scope_hosts", framework=BENCHMARK, scope="", judged="no") == 1


def test_it_counts_failing_targets_per_recommendation_running_ones_only_by_default(estate, scrape):
    result = scrape()
    assert result.value("plimsoll_cis_failing_targets", control="5.5") == 1  # the stopped container is not counted
    assert result.value("plimsoll_cis_failing_hosts", control="5.5") == 1
    assert result.value("plimsoll_cis_failing_targets", control="2.5") == 2
    assert result.value("plimsoll_cis_failing_hosts", control="2.5") == 2
    assert result.value("plimsoll_cis_failing_targets", control="1.1.2") == 0
    controls = [s["control"] for s in result.series("plimsoll_cis_failing_targets")]
    assert len(controls) == len(set(controls)) == Requirement.objects.filter(
        framework__slug=BENCHMARK, framework__is_current=True, assessable=True).count()


def test_an_approved_exception_takes_its_targets_out_and_shows_as_expiring(estate, scrape, alice, carol):
    def exception(control: str, days: int, approve: bool = True) -> None:
        e = request_exception(by=carol, control=control, scope_kind="all", justification="accepted", risk_rating="low",
                              expires_at=NOW + datetime.timedelta(days=days))
        if approve:
            approve_exception(e.pk, by=alice)

    exception("2.5", 5)
    exception("5.5", 20)
    exception("1.1.2", 100)
    exception("2.13", 3, approve=False)  # requested only: neither in force nor expiring
    result = scrape()
    assert result.value("plimsoll_cis_failing_targets", control="2.5") == 0
    assert result.value("plimsoll_cis_failing_targets", control="5.5") == 0
    assert result.value("plimsoll_exceptions_active") == 3
    assert result.value("plimsoll_exceptions_expiring", within_days="7") == 1
    assert result.value("plimsoll_exceptions_expiring", within_days="30") == 2


def test_it_counts_evidence_about_to_stop_counting(estate, scrape, carol):
    requirement = Requirement.objects.get(framework__slug=BENCHMARK, ref_id="1.1.2")
    for days in (2, 12, 90):
        upload_evidence(by=carol, kind="note", title=f"review {days}", description="ok", requirements=[requirement],
                        collected_at=NOW - datetime.timedelta(days=1), valid_until=NOW + datetime.timedelta(days=days))
    upload_evidence(by=carol, kind="note", title="lapsed", description="old", requirements=[requirement],
                    collected_at=NOW - datetime.timedelta(days=10), valid_until=NOW - datetime.timedelta(days=1))
    result = scrape()
    assert result.value("plimsoll_evidence_valid") == 3
    assert result.value("plimsoll_evidence_expiring", within_days="7") == 1
    assert result.value("plimsoll_evidence_expiring", within_days="30") == 2


def test_it_counts_hosts_by_freshness_with_the_stale_setting(estate, scrape, settings):
    settings.PLIMSOLL_STALE_HOURS = 26
    result = scrape()
    assert result.value("plimsoll_hosts", freshness="fresh") == 2
    assert result.value("plimsoll_hosts", freshness="stale") == 1
    assert result.value("plimsoll_hosts", freshness="never_reported") == 1
    settings.PLIMSOLL_STALE_HOURS = 48
    assert scrape().value("plimsoll_hosts", freshness="stale") == 0


def test_it_reports_the_evaluation_queue_and_the_runs(estate, scrape, agent_token, snapshot_doc):
    before = scrape()
    assert before.value("plimsoll_evaluation_snapshots", status="queued") == 0
    assert before.value("plimsoll_evaluation_oldest_queued_seconds") == 0
    doc = snapshot_doc()
    doc["host"]["machine_id"] = "machine-queued"
    doc["agent"]["collected_at"] = NOW.isoformat()
    queued = ingest_snapshot(doc, agent_token[0]).snapshot  # no task runs inside the test's transaction: it waits
    assert queued.evaluation_status == EvaluationStatus.QUEUED
    failed = estate[2]
    failed.evaluation_status = EvaluationStatus.FAILED
    failed.save(update_fields=["evaluation_status"])
    start = NOW - datetime.timedelta(minutes=5)
    for seconds, status in ((0.3, EvaluationStatus.DONE), (4.0, EvaluationStatus.DONE), (45.0, EvaluationStatus.DONE),
                            (1.0, EvaluationStatus.FAILED)):
        Evaluation.objects.create(snapshot=estate[0], engine_version="test", status=status, started_at=start,
                                  finished_at=start + datetime.timedelta(seconds=seconds))
    after = scrape()
    assert after.value("plimsoll_evaluation_snapshots", status="queued") == 1
    assert after.value("plimsoll_evaluation_snapshots", status="running") == 0
    assert after.value("plimsoll_evaluation_snapshots", status="failed") == 1
    assert after.value("plimsoll_evaluation_oldest_queued_seconds") > 0

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("plimsoll_evaluations_total", status="done") == 3
    assert delta("plimsoll_evaluations_total", status="failed") == 1
    assert delta("plimsoll_evaluation_duration_seconds_count") == 3
    assert delta("plimsoll_evaluation_duration_seconds_sum") == pytest.approx(49.3)
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="0.25") == 0
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="0.5") == 1
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="5.0") == 2
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="30.0") == 2
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="60.0") == 3
    assert delta("plimsoll_evaluation_duration_seconds_bucket", le="+Inf") == 3


def test_no_label_names_a_host_or_a_container(estate, scrape):
    result = scrape()
    names = {"cde-1", "office-1", "silent-1", "never-1", "web-1", "web-2", "web-3"}
    values = {value for (_, labels) in result.samples for (_, value) in labels}
    assert not values & names
    assert {key for (_, labels) in result.samples for (key, _) in labels} <= {
        "framework", "scope", "status", "judged", "control", "freshness", "within_days", "le", "code"}


def test_its_query_count_does_not_grow_with_the_fleet(estate, scrape, judged_host, django_assert_max_num_queries):
    from django.core.cache import cache
    from django.db import connection

    cache.clear()
    with CaptureQueriesContext(connection) as small:
        scrape()
    for i in range(6):
        judged_host(f"more-{i}", {"2.5": ["fail" if i % 2 else "pass"], "5.5": [f"fail@c-{i}"]},
                    labels={"pci": "cde"} if i % 2 else {})
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        scrape()


def test_a_quiet_estate_is_served_from_the_posture_cache(estate, scrape):
    from django.db import connection

    scrape()
    with CaptureQueriesContext(connection) as warm:
        result = scrape()
    assert result.value("plimsoll_cis_failing_targets", control="2.5") == 2
    # The fingerprint, hosts, expiries, queue and runs: no posture is computed again.
    assert not any("compliance_controltally" in q["sql"] for q in warm.captured_queries)
