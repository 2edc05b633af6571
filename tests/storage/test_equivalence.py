"""Results by content answer exactly as the old result rows did.

An estate with history (hosts with several snapshots, containers that change, stop and go, a snapshot judged twice,
a snapshot still queued, exceptions of every scope kind, evidence) is stored in the old layout (compliance 0009: one
row per result and per tally), then:
- posture for every loaded framework and requirement (with and without stopped containers, now and as of past
  moments), the drill-down rows, the host-page rows and the host counts are read, the migration to results by content
  runs, and everything is read again: the same, field for field (ids aside, which are mapped: each old id still
  finds its result);
- the CIS posture counts equal an independent recomputation: the engine run again on each standing snapshot and its
  findings tallied here;
- the snapshots judged after the migration share the stored content with those judged before it.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import BigIntegerField
from django.utils import timezone

from bench._snapshots import base_snapshot
from common.roles import ADMIN, SECURITY_MANAGER
from common.scope import parse_selector
from compliance.dashboard.drilldown import DrillDown, Filters
from compliance.engine import BENCHMARK, ENGINE_VERSION, Policy, evaluate
from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from compliance.hosts.services import host_counts
from compliance.migrations._roles import grant
from compliance.models import Result, ResultContent, ResultGroup, ResultSet, is_stopped
from compliance.posture.services import compute_posture, hosts_in_scope, judge_rows, requirement_results, snapshot_rows
from compliance.result_ids import ResultIdField
from compliance.services import evaluate_snapshot, set_evaluation_status
from frameworks.models import Framework, Requirement
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot
from inventory.services import ingest_snapshot
from tests.conftest import _user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("compliance", "0009_report_view_permission")]
T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
NOW = T0 + datetime.timedelta(days=2)
MOMENTS = [None, T0 + 30 * datetime.timedelta(minutes=1), T0 + 90 * datetime.timedelta(minutes=1)]
COUNT_FIELDS = ("passed", "failed", "info", "manual", "not_applicable", "error")
FIELD_OF = {"pass": "passed", "fail": "failed", "info": "info", "manual": "manual", "not_applicable": "not_applicable",
            "error": "error"}


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def back_to_the_latest_afterwards() -> Iterator[None]:
    yield
    migrate(latest())


@pytest.fixture
def judged_here() -> Iterator[None]:
    """Snapshots stored here are judged by the test (in the layout of the moment), not by the evaluation task."""
    from compliance.apps import _queue_evaluation
    from inventory.signals import snapshot_stored

    snapshot_stored.disconnect(dispatch_uid="compliance.queue_evaluation")
    yield
    snapshot_stored.connect(_queue_evaluation, dispatch_uid="compliance.queue_evaluation")


def document(host: str, at: datetime.datetime, change: int) -> dict[str, Any]:
    """A real sample snapshot with six containers, changed a little more at each `change`: a container stops, one
    runs privileged, one runs as root, one goes away."""
    doc = base_snapshot()
    templates = doc["docker"]["containers"]
    containers = []
    for i in range(6):
        item = copy.deepcopy(templates[i % len(templates)])
        item["inspect"]["Id"] = f"{host}-{i}".encode().hex().ljust(64, "0")[:64]
        item["inspect"]["Name"] = f"/{host}-{i}"
        containers.append(item)
    if change >= 1:
        state = containers[1]["inspect"].setdefault("State", {})
        state["Status"], state["Running"] = "exited", False
    if change >= 2:
        containers[2]["inspect"].setdefault("HostConfig", {})["Privileged"] = True
        containers[3]["inspect"].setdefault("Config", {})["User"] = ""
        containers.pop(5)
    doc["docker"]["containers"] = containers
    doc["host"]["machine_id"], doc["host"]["hostname"] = f"machine-{host}", host
    doc["agent"]["collected_at"] = at.isoformat()
    doc["agent"]["labels"] = {"pci": "cde"} if host in ("web", "db") else {"env": "dev"}
    return doc


def store_old(apps: Any, snapshot: Snapshot, policy: dict[str, Any] | None = None) -> None:
    """Judge a snapshot and store its results and tallies as compliance.services did up to 0009."""
    Evaluation = apps.get_model("compliance", "Evaluation")
    OldResult = apps.get_model("compliance", "Result")
    ControlTally = apps.get_model("compliance", "ControlTally")
    findings = evaluate(snapshot.document, Policy.from_dict(policy or {}))
    previous = Evaluation.objects.filter(snapshot_id=snapshot.pk, is_current=True)
    OldResult.objects.filter(evaluation__in=previous).update(is_current=False)
    ControlTally.objects.filter(evaluation__in=previous).update(is_current=False)
    previous.update(is_current=False)
    run = Evaluation.objects.create(
        snapshot_id=snapshot.pk, engine_version=ENGINE_VERSION, policy=policy or {}, status="done", is_current=True,
        finished_at=timezone.now(), counts=dict(Counter(str(f.status) for f in findings)),
    )
    OldResult.objects.bulk_create([OldResult(
        evaluation_id=run.pk, snapshot_id=snapshot.pk, host_id=snapshot.host_id, is_current=True, control=f.control,
        target_kind=f.target_kind, target_name=f.target_name, target_id=f.target_id or "",
        target_state=f.target_state or "", status=str(f.status), evidence=f.evidence, expected=f.expected,
        message=f.message,
    ) for f in findings])
    counts: dict[tuple[str, bool], Counter[str]] = {}
    for f in findings:
        counts.setdefault((f.control, is_stopped(f.target_kind, f.target_state)), Counter())[str(f.status)] += 1
    ControlTally.objects.bulk_create([ControlTally(
        evaluation_id=run.pk, snapshot_id=snapshot.pk, host_id=snapshot.host_id, control=control, stopped=stopped,
        **{FIELD_OF[s]: n for s, n in counter.items()},
    ) for (control, stopped), counter in counts.items()])
    set_evaluation_status(snapshot, EvaluationStatus.DONE)


def seed(apps: Any, agent: Any, carol: Any, alice: Any) -> dict[str, Any]:
    snapshots: dict[str, list[Snapshot]] = {}
    for host in ("web", "db", "build", "edge"):
        for step in range(3):
            doc = document(host, T0 + step * HOUR, step if host != "db" else min(step, 1))
            snapshot = ingest_snapshot(doc, agent).snapshot
            snapshots.setdefault(host, []).append(snapshot)
            if host == "edge" and step == 2:
                continue  # still queued: edge stands on its second snapshot
            store_old(apps, snapshot)
    # Judged again with a policy: the first run stays, not current.
    store_old(apps, snapshots["build"][2], {"max_unused_images": 0})

    fails = Counter()
    for row in apps.get_model("compliance", "Result").objects.filter(is_current=True, status="fail").values(
            "control", "target_kind"):
        fails[(row["target_kind"], row["control"])] += 1
    host_control = max((c for k, c in fails if k == "host"), key=lambda c: fails[("host", c)])
    container_control = max((c for k, c in fails if k == "container"), key=lambda c: fails[("container", c)])
    image_controls = [c for k, c in fails if k == "image"]
    manual = (apps.get_model("compliance", "Result").objects.filter(is_current=True, status="manual")
              .values_list("control", flat=True).first())
    image = snapshots["web"][0].document["docker"]["containers"][0]["inspect"]["Config"]["Image"]
    with time_machine.travel(T0 + 75 * datetime.timedelta(minutes=1), tick=False):
        def accept(**scope: Any) -> None:
            exception = request_exception(by=carol, justification="accepted for the test", risk_rating="low",
                                          expires_at=T0 + datetime.timedelta(days=30), **scope)
            approve_exception(exception.pk, by=alice)

        accept(control=host_control, scope_kind="host", scope_host=Host.objects.get(hostname="web"))
        accept(control=container_control, scope_kind="selector", scope_selector="env=dev")
        accept(control=container_control, scope_kind="container", scope_container_pattern="web-2")
        for control in image_controls:
            accept(control=control, scope_kind="image", scope_image=image)
        if manual:
            requirement = Requirement.objects.get(framework__slug=BENCHMARK, framework__is_current=True, ref_id=manual)
            upload_evidence(by=carol, kind="note", title="reviewed", description="ok", collected_at=T0,
                            valid_until=T0 + datetime.timedelta(days=90), requirements=[requirement],
                            scope_selector="pci=cde")
    return {"snapshots": snapshots, "controls": [host_control, container_control, *image_controls]}


def _row(result: Any) -> tuple[Any, ...]:
    return (result.snapshot_id, result.host_id, result.control, result.target_kind, result.target_name,
            result.target_id, result.target_state, result.status, result.message,
            json.dumps(result.evidence, sort_keys=True), json.dumps(result.expected, sort_keys=True), result.is_current)


def capture() -> dict[str, Any]:
    """What posture, drill-down and host pages answer, without ids."""
    seen: dict[str, Any] = {"posture": {}, "drill": {}, "pages": {}, "hosts": {}, "listed": {}}
    slugs = sorted(Framework.objects.filter(is_current=True).values_list("slug", flat=True))
    with time_machine.travel(NOW, tick=False):
        for slug in slugs:
            for as_of in MOMENTS:
                for include_stopped in (False, True):
                    posture = compute_posture(slug, "", as_of=as_of, include_stopped=include_stopped)
                    key = (slug, str(as_of), include_stopped)
                    seen["posture"][key] = (
                        [(r.ref_id, r.status, asdict(r.counts), [asdict(f) for f in r.failing], r.evidence,
                          r.exceptions, r.stopped_failing) for r in posture.requirements],
                        posture.summary.as_dict(), sorted(posture.matched_exceptions),
                        [(h.id, h.snapshot_id) for h in posture.hosts],
                    )
                    if slug not in (BENCHMARK, "pci-dss-4.0"):
                        continue
                    hosts = {h.id: h for h in posture.hosts}
                    for node in posture.requirements:
                        if not node.controls:
                            continue
                        listed = judge_rows(posture.judge, requirement_results(posture, node), hosts)
                        seen["listed"][(*key, node.ref_id)] = [(_row(r.result), r.status) for r in listed]
                        drill = DrillDown(posture, node, Filters())
                        seen["drill"][(*key, node.ref_id)] = (drill.count(), [(_row(r.result), r.status)
                                                                               for r in drill[0:drill.count()]])
                    counts = host_counts(posture.hosts, posture.judge)
                    seen["hosts"][key] = {h: asdict(c) if c else None for h, c in counts.items()}
        for snapshot in Snapshot.objects.order_by("id"):
            rows = snapshot_rows(snapshot, snapshot.host.labels)
            seen["pages"][snapshot.pk] = [(_row(r.result), r.status) for r in rows]
    return seen


def recount(as_of: datetime.datetime | None, include_stopped: bool) -> dict[str, Counter[str]]:
    """Per CIS control, the raw statuses of the engine run again on each standing snapshot."""
    counts: dict[str, Counter[str]] = {}
    for host in hosts_in_scope(parse_selector(""), as_of):
        if not host.snapshot_id:
            continue
        snapshot = Snapshot.objects.get(pk=host.snapshot_id)
        evaluation = snapshot.evaluations.get(is_current=True)
        for f in evaluate(snapshot.document, Policy.from_dict(evaluation.policy)):
            if include_stopped or not is_stopped(f.target_kind, f.target_state):
                counts.setdefault(f.control, Counter())[str(f.status)] += 1
    return counts


@pytest.mark.usefixtures("back_to_the_latest_afterwards", "judged_here")
def test_posture_drill_down_and_host_pages_answer_the_same_after_the_migration(agent_token, monkeypatch):
    grant(django_apps, None)  # the roles (a transactional test before this one may have flushed them)
    carol, alice = _user("carol", SECURITY_MANAGER), _user("alice", ADMIN)
    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    call_command("load_frameworks", stdout=io.StringIO(), stderr=io.StringIO())
    estate = seed(apps, agent_token[0], carol, alice)
    old_rows = {pk: (snapshot_id, control, kind, name, target_id, status, is_current)
                for pk, snapshot_id, control, kind, name, target_id, status, is_current in
                apps.get_model("compliance", "Result").objects.values_list(
                    "id", "snapshot_id", "control", "target_kind", "target_name", "target_id", "status", "is_current")}
    # Before, a result id is a column of its own (no alias table yet): looked up as the old code did.
    with monkeypatch.context() as patch:
        patch.setattr(ResultIdField, "get_lookup", BigIntegerField.get_lookup)
        before = capture()
    assert sum(len(rows) for _, rows in before["drill"].values()) > 100

    migrate(latest())
    after = capture()
    for part in before:
        assert after[part].keys() == before[part].keys(), part
        for key in before[part]:
            assert after[part][key] == before[part][key], (part, key)
    # Exceptions matched results before and match the same after.
    assert any(matched for _, _, matched, _ in after["posture"].values())

    # Every old id still finds its result (through compliance.ResultAlias), one by one and in bulk.
    assert Result.objects.count() == len(old_rows)
    ids = sorted(old_rows)
    for pk in ids[:: max(1, len(ids) // 50)]:
        found = Result.objects.get(pk=pk)
        assert (found.snapshot_id, found.control, found.target_kind, found.target_name, found.target_id,
                found.status, found.is_current) == old_rows[pk]
    found = Result.objects.filter(pk__in=ids[:200]).values_list("snapshot_id", "control", "target_name", "status")
    assert sorted(found) == sorted(tuple(old_rows[pk][i] for i in (0, 1, 3, 5)) for pk in ids[:200])
    # New ids find their rows too, and an unknown id finds none.
    some = list(Result.objects.filter(is_current=True).order_by("id").values_list("id", "control")[:5])
    assert list(Result.objects.filter(pk__in=[pk for pk, _ in some]).order_by("id").values_list("id", "control")) == some
    assert not Result.objects.filter(pk=max(ids) + 10**6).exists()

    # The CIS posture counts are the engine's findings on the standing snapshots, counted independently.
    with time_machine.travel(NOW, tick=False):
        for as_of in MOMENTS:
            for include_stopped in (False, True):
                posture = compute_posture(BENCHMARK, "", as_of=as_of, include_stopped=include_stopped)
                expected = recount(as_of, include_stopped)
                for node in posture.requirements:
                    if not node.controls or len(node.controls) != 1:
                        continue
                    raw = expected.get(node.controls[0], Counter())
                    c = node.counts
                    assert (c.passing, c.failing + c.excepted, c.manual + c.attested, c.error, c.info,
                            c.not_applicable) == (raw["pass"], raw["fail"], raw["manual"], raw["error"], raw["info"],
                                                  raw["not_applicable"]), (as_of, include_stopped, node.ref_id)
    assert estate["controls"]

    # Judged after the migration, the same content is shared with what the migration stored.
    groups, contents, sets = ResultGroup.objects.count(), ResultContent.objects.count(), ResultSet.objects.count()
    web = estate["snapshots"]["web"][2]
    again = ingest_snapshot({**copy.deepcopy(web.document), "agent": {**web.document["agent"],
                                                                    "collected_at": (T0 + 3 * HOUR).isoformat()}},
                            agent_token[0]).snapshot
    assert evaluate_snapshot(again.pk) == "done"
    assert (ResultGroup.objects.count(), ResultContent.objects.count(), ResultSet.objects.count()) == (
        groups, contents, sets)
    assert again.evaluations.get().result_set_id == web.evaluations.get(is_current=True).result_set_id
