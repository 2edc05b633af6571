"""Results and tallies stored by content: what a repeat costs, exactly-once and concurrent storing, ids, history and
the clean-up of what no evaluation references."""

from __future__ import annotations

import copy
import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from compliance.engine import Policy, evaluate
from compliance.models import (
    ControlTally,
    Evaluation,
    PolicyContent,
    Result,
    ResultContent,
    ResultGroup,
    ResultList,
    ResultRow,
    ResultSet,
    TallyRow,
    TallySet,
)
from compliance.result_ids import BASE, evaluation_of
from compliance.services import delete_unreferenced, evaluate_snapshot, store_results
from inventory.models import Snapshot
from inventory.services import ingest_snapshot
from tests.storage.test_equivalence import judged_here  # noqa: F401

T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
STORED = (ResultContent, ResultGroup, ResultList, ResultRow, ResultSet, TallySet, TallyRow)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


@pytest.fixture
def push(agent_token: Any, snapshot_doc: Callable[..., dict[str, Any]]) -> Callable[..., Snapshot]:
    """push(hour, change=...) -> a stored, judged snapshot of one host collected at T0 + hour."""

    def make(hour: int, change: Callable[[dict[str, Any]], None] | None = None, host: str = "web") -> Snapshot:
        doc = snapshot_doc()
        doc["host"]["machine_id"], doc["host"]["hostname"] = f"machine-{host}", host
        doc["agent"]["collected_at"] = (T0 + hour * HOUR).isoformat()
        if change is not None:
            change(doc)
        snapshot = ingest_snapshot(doc, agent_token[0]).snapshot
        evaluate_snapshot(snapshot.pk)
        return snapshot

    return make


def privileged(doc: dict[str, Any]) -> None:
    doc["docker"]["containers"][0]["inspect"].setdefault("HostConfig", {})["Privileged"] = True


def rows(snapshot: Snapshot) -> list[tuple[Any, ...]]:
    return sorted(Result.objects.filter(snapshot=snapshot, is_current=True).values_list(
        "control", "target_kind", "target_name", "target_id", "target_state", "status", "message"))


@pytest.mark.django_db
def test_a_repeat_with_nothing_changed_adds_an_evaluation_and_nothing_else(push):
    first = push(0)
    stored = counts()
    # One group per target; targets judged alike share one list of rows.
    assert stored["ResultGroup"] == len(set(Result.objects.filter(snapshot=first).values_list("target_kind", "target_id")))
    assert stored["ResultRow"] <= Result.objects.filter(snapshot=first).count()
    repeat = push(1)
    assert counts() == stored
    assert rows(repeat) == rows(first)
    assert repeat.evaluations.get().result_set_id == first.evaluations.get().result_set_id
    assert repeat.evaluations.get().tally_set_id == first.evaluations.get().tally_set_id
    assert sorted(ControlTally.objects.filter(snapshot_id=repeat.pk).values_list("control", "stopped", "passed", "failed")) \
        == sorted(ControlTally.objects.filter(snapshot_id=first.pk).values_list("control", "stopped", "passed", "failed"))


@pytest.mark.django_db
def test_one_changed_container_adds_that_container_s_results_only(push):
    first = push(0)
    stored = counts()
    changed = push(1, privileged)
    added = {name: n - stored[name] for name, n in counts().items()}
    container = changed.document["docker"]["containers"][0]["inspect"]["Id"]
    group_size = Result.objects.filter(snapshot=changed, target_id=container).count()
    assert added["ResultGroup"] == 1 and added["ResultSet"] == 1 and added["ResultList"] == 1
    assert added["ResultRow"] == group_size
    assert added["ResultContent"] >= 1  # the privileged judgement
    assert added["TallySet"] == 1  # 5.5 counts one more failure
    changed_rows = {(c, t): (s, m) for c, _, _, t, _, s, m in rows(changed)}
    first_rows = {(c, t): (s, m) for c, _, _, t, _, s, m in rows(first)}
    differ = {k for k in changed_rows if changed_rows[k] != first_rows.get(k)}
    assert ("5.5", container) in differ and {t for _, t in differ} == {container}


@pytest.mark.django_db
def test_the_view_reads_what_the_engine_found(push):
    snapshot = push(0)
    findings = evaluate(snapshot.document, Policy())
    expected = sorted((f.control, f.target_kind, f.target_name, f.target_id or "", f.target_state or "", str(f.status),
                       f.message) for f in findings)
    assert rows(snapshot) == expected
    evidence = {(f.control, f.target_id or ""): f.evidence for f in findings}
    for result in Result.objects.filter(snapshot=snapshot)[:50]:
        assert result.evidence == evidence[(result.control, result.target_id)]
        assert result.host_id == snapshot.host_id and result.evaluation.snapshot_id == snapshot.pk


@pytest.mark.django_db
def test_ids_are_stable_and_find_their_result(push):
    snapshot = push(0)
    ids = list(Result.objects.filter(snapshot=snapshot).order_by("id").values_list("id", flat=True))
    assert len(set(ids)) == len(ids) and min(ids) >= BASE
    assert list(Result.objects.filter(snapshot=snapshot).order_by("id").values_list("id", flat=True)) == ids
    run = snapshot.evaluations.get()
    assert {evaluation_of(pk) for pk in ids} == {run.pk}
    picked = ids[::37]
    assert sorted(Result.objects.filter(pk__in=picked).values_list("id", flat=True)) == picked
    assert sorted(Result.objects.filter(pk__any=picked).values_list("id", flat=True)) == picked
    assert Result.objects.get(pk=ids[5]).pk == ids[5]
    assert Result.objects.in_bulk(picked).keys() == set(picked)
    assert not Result.objects.filter(pk=ids[-1] + 1).exists()
    assert not Result.objects.filter(pk__in=[ids[-1] + 1, 12345]).exists()


@pytest.mark.django_db
def test_a_second_run_supersedes_the_first_by_one_update(push):
    snapshot = push(0)
    first = snapshot.evaluations.get()
    findings = evaluate(snapshot.document, Policy())
    # With replace off a run of this engine version is kept: the same evaluation, nothing written.
    assert store_results(snapshot, findings, {}, replace=False).pk == first.pk
    assert snapshot.evaluations.count() == 1
    second = store_results(snapshot, findings[:-1], {"max_unused_images": 0})
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert Result.objects.filter(evaluation=first, is_current=True).count() == 0
    assert Result.objects.filter(evaluation=first).count() == len(findings)
    assert Result.objects.filter(snapshot=snapshot, is_current=True).count() == len(findings) - 1
    assert ControlTally.objects.filter(evaluation=first, is_current=True).count() == 0
    assert ControlTally.objects.filter(evaluation=second, is_current=True).count() > 0


@pytest.mark.django_db
def test_a_result_that_does_not_fit_fails_the_run_and_stores_nothing(push):
    snapshot = push(0)
    stored = counts()
    findings = evaluate(snapshot.document, Policy())
    too_many = [copy.copy(findings[0]) for _ in range(1100)]
    with pytest.raises(ValueError, match="at most"):
        store_results(snapshot, too_many, {})
    assert counts() == stored
    assert snapshot.evaluations.get().is_current


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("judged_here")
def test_concurrent_runs_of_the_same_content_share_it(agent_token, snapshot_doc):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database locks a table per writer; the race needs PostgreSQL (CI)")
    snapshots = []
    for i in range(2):
        doc = snapshot_doc()
        doc["host"]["machine_id"], doc["host"]["hostname"] = f"machine-{i}", "same"
        doc["agent"]["collected_at"] = T0.isoformat()
        snapshots.append(ingest_snapshot(doc, agent_token[0]).snapshot)
    findings = evaluate(snapshots[0].document, Policy())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def judge(snapshot: Snapshot) -> None:
        try:
            barrier.wait(timeout=10)
            store_results(snapshot, findings, {}, replace=False)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=judge, args=(s,)) for s in snapshots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    runs = [Evaluation.objects.get(snapshot=s, is_current=True) for s in snapshots]
    assert runs[0].result_set_id == runs[1].result_set_id and runs[0].tally_set_id == runs[1].tally_set_id
    assert ResultSet.objects.count() == 1
    assert Result.objects.filter(snapshot=snapshots[0]).count() == Result.objects.filter(snapshot=snapshots[1]).count() \
        == len(findings)


@pytest.mark.django_db
def test_what_no_evaluation_references_is_deleted_and_the_rest_kept(push):
    first = push(0)
    changed = push(1, privileged)
    kept = rows(first)
    Evaluation.objects.filter(snapshot=changed).delete()
    Snapshot.objects.filter(pk=changed.pk).delete()
    deleted = delete_unreferenced()
    assert deleted["result_sets"] == 1 and deleted["tally_sets"] == 1 and deleted["result_groups"] == 1
    assert deleted["result_lists"] == 1 and deleted["result_contents"] >= 1
    assert rows(first) == kept
    PolicyContent.objects.create(sha256="f" * 64, data={"max_unused_images": 1})  # its runs pruned
    assert delete_unreferenced()["policy_contents"] == 1
    assert Evaluation.objects.get(snapshot=first).policy == {} and PolicyContent.objects.count() == 1
    assert delete_unreferenced() == {"result_sets": 0, "tally_sets": 0, "result_groups": 0, "result_lists": 0,
                                     "result_contents": 0, "policy_contents": 0}
