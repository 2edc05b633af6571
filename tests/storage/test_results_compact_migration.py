"""compliance 0014-0016: an evaluation's policy by content, its counts on its tally set and a result set's group ids
packed, without losing a result, a tally, a policy or a count; what the old code writes meanwhile is caught up, and
the way back restores the old columns. Also: packed ids of any width unfold in the view as they were stored."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from compliance.migrations._compact_evaluations import CountsDiffer, fill
from compliance.models import Evaluation, Result, ResultGroup, ResultList, ResultSet
from compliance.models import Evaluation as CurrentEvaluation
from compliance.result_ids import pack_ids, unpack_ids
from inventory.services import ingest_snapshot
from tests.storage.test_equivalence import document, judged_here, latest, migrate, store_old  # noqa: F401
from tests.storage.test_results_migration import results, state, tallies

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OLD_RESULTS = [("compliance", "0009_report_view_permission")]
BEFORE = [("compliance", "0013_storage_no_like_indexes")]
TABLES = [("compliance", "0014_compact_evaluations")]
DATA = [("compliance", "0015_compact_evaluations_data")]
VIEWS = [("compliance", "0016_compact_evaluations_views")]
T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
POLICY = {"max_unused_images": 0, "trusted_docker_users": ["root"]}


@pytest.fixture
def back_to_the_latest_afterwards() -> Iterator[None]:
    yield
    migrate(latest())


def runs(apps: Any) -> dict[int, tuple[Any, ...]]:
    """Each evaluation as the old columns held it: snapshot, current, tally set, policy, counts (zeros left out)."""
    return {pk: (snapshot, current, tally, json.dumps(policy or {}, sort_keys=True),
                 json.dumps({s: n for s, n in (counts or {}).items() if n}, sort_keys=True))
            for pk, snapshot, current, tally, policy, counts in apps.get_model("compliance", "Evaluation").objects
            .values_list("id", "snapshot_id", "is_current", "tally_set_id", "policy", "counts")}


def runs_now(apps: Any) -> dict[int, tuple[Any, ...]]:
    """The same, read from the new columns."""
    rows = apps.get_model("compliance", "Evaluation").objects.values_list(
        "id", "snapshot_id", "is_current", "tally_set_id", "policy_content__data", "tally_set__counts")
    return {pk: (snapshot, current, tally, json.dumps(policy or {}, sort_keys=True), json.dumps(counts or {},
                                                                                             sort_keys=True))
            for pk, snapshot, current, tally, policy, counts in rows}


def groups(apps: Any, column: str) -> dict[int, list[int]]:
    return {pk: [int(g) for g in ids] for pk, ids in
            apps.get_model("compliance", "ResultSet").objects.values_list("id", column)}


@pytest.mark.usefixtures("back_to_the_latest_afterwards", "judged_here")
def test_it_moves_policies_counts_and_groups_and_back(agent_token):
    agent = agent_token[0]
    migrate(OLD_RESULTS)
    apps = state(OLD_RESULTS)
    Evaluation = apps.get_model("compliance", "Evaluation")
    snapshots = []
    for step in range(2):
        for host in ("web", "db"):
            snapshot = ingest_snapshot(document(host, T0 + step * HOUR, step), agent).snapshot
            store_old(apps, snapshot, POLICY if host == "db" else None)
            snapshots.append(snapshot)
    store_old(apps, snapshots[0], {"max_unused_images": 0})  # judged twice: the first run is history
    Evaluation.objects.create(snapshot_id=snapshots[1].pk, engine_version="0", status="failed", error="boom")
    # Judged before tallies existed (compliance 0003): counts, no tally rows.
    Evaluation.objects.create(snapshot_id=snapshots[2].pk, engine_version="0", status="done",
                              counts={"pass": 3, "fail": 1})
    migrate(BEFORE)
    apps = state(BEFORE)
    old, old_tallies, old_runs = results(apps), tallies(apps), runs(apps)
    old_groups = groups(apps, "groups")
    assert len(old) > 1000 and len(old_runs) == 7
    before_tallies = [pk for pk, run in old_runs.items() if run[2] is None and run[4] != "{}"]
    assert len(before_tallies) == 1
    assert {policy for *_, policy, _ in old_runs.values()} == {"{}", json.dumps(POLICY, sort_keys=True),
                                                               '{"max_unused_images": 0}'}

    # Step 1, then an evaluation filled before an interruption: step 2 leaves it as it is.
    migrate(TABLES)
    apps = state(TABLES)
    Evaluation = apps.get_model("compliance", "Evaluation")
    PolicyContent = apps.get_model("compliance", "PolicyContent")
    first = Evaluation.objects.order_by("id").first()
    early = PolicyContent.objects.create(sha256="0" * 64, data=first.policy)
    Evaluation.objects.filter(pk=first.pk).update(policy_content=early)
    migrate(DATA)
    apps = state(DATA)
    assert apps.get_model("compliance", "Evaluation").objects.get(pk=first.pk).policy_content_id == early.pk

    # Written by the old code after step 2 (a new run of a snapshot, its set and tallies): step 3 catches it up.
    late = ingest_snapshot(document("edge", T0, 2), agent).snapshot
    Evaluation = apps.get_model("compliance", "Evaluation")
    TallySet = apps.get_model("compliance", "TallySet")
    ResultSet_ = apps.get_model("compliance", "ResultSet")
    tally = TallySet.objects.create(sha256="1" * 64)
    apps.get_model("compliance", "TallyRow").objects.create(tally_set=tally, control="5.1", position=0, passed=2,
                                                            failed=1)
    result_set = ResultSet_.objects.create(sha256="2" * 64, groups=old_groups[min(old_groups)])
    Evaluation.objects.create(snapshot_id=late.pk, host_id=late.host_id, engine_version="0", status="done",
                              is_current=True, policy=POLICY, counts={"pass": 2, "fail": 1}, tally_set=tally,
                              result_set=result_set)
    old_runs = {pk: (*run[:2], None if pk in before_tallies else run[2], *run[3:]) for pk, run in runs(apps).items()}
    old_groups = groups(apps, "groups")
    old = results(apps)
    old_tallies = tallies(apps)

    migrate(VIEWS)
    apps = state(VIEWS)
    assert results(apps) == old  # every result, field for field, under the same id
    assert tallies(apps) == old_tallies
    assert groups(apps, "group_ids") == old_groups
    now = runs_now(apps)
    # Every policy and count; the run from before tallies now points at a tally set of no rows holding its counts.
    assert {pk: (*run[:2], run[3:]) for pk, run in now.items()} == {pk: (*run[:2], run[3:])
                                                                    for pk, run in old_runs.items()}
    assert {pk: run[2] for pk, run in now.items() if pk not in before_tallies} == {
        pk: run[2] for pk, run in old_runs.items() if pk not in before_tallies}
    # Stored once per distinct policy (the row filled before the interruption aside).
    assert apps.get_model("compliance", "PolicyContent").objects.count() == 4
    # The models read them as before.
    for run in CurrentEvaluation.objects.select_related("policy_content", "tally_set"):
        assert json.dumps(run.policy, sort_keys=True) == old_runs[run.pk][3]
        assert json.dumps(run.counts, sort_keys=True) == old_runs[run.pk][4]

    # The way back: the old columns again, as they were.
    migrate(BEFORE)
    apps = state(BEFORE)
    assert runs(apps) == old_runs
    assert groups(apps, "groups") == old_groups
    assert results(apps) == old
    assert tallies(apps) == old_tallies
    # And forward again, as a second run on the same database would.
    migrate(VIEWS)
    assert results(state(VIEWS)) == old


@pytest.mark.usefixtures("back_to_the_latest_afterwards", "judged_here")
def test_it_refuses_to_drop_counts_its_tallies_do_not_give(agent_token):
    migrate(OLD_RESULTS)
    apps = state(OLD_RESULTS)
    snapshot = ingest_snapshot(document("web", T0, 0), agent_token[0]).snapshot
    store_old(apps, snapshot)
    migrate(TABLES)
    apps = state(TABLES)
    apps.get_model("compliance", "Evaluation").objects.update(counts={"pass": 1})
    with pytest.raises(CountsDiffer, match="not the sums of its tallies"):
        fill(apps, SimpleNamespace(connection=connection))
    assert not apps.get_model("compliance", "Evaluation").objects.exclude(policy_content=None).exists()
    apps.get_model("compliance", "Evaluation").objects.all().delete()  # so that the way back to the latest runs


def test_it_packs_ids_of_any_width():
    for ids in ([], [1], [255, 256, 1], [2**24, 5], [2**40 + 7, 3, 2**63 - 1]):
        assert unpack_ids(pack_ids(ids)) == ids
    assert len(pack_ids([7] * 30)) == 31 and len(pack_ids([70_000] * 30)) == 91
    with pytest.raises(ValueError):
        pack_ids([-1])


@pytest.mark.usefixtures("judged_here")
def test_the_view_unfolds_packed_ids_as_stored(agent_token):
    """Groups of ids wider than 3 bytes, in a set's order: the result view finds each, at its place."""
    snapshot = ingest_snapshot(document("web", T0, 0), agent_token[0]).snapshot
    from compliance.services import evaluate_snapshot

    evaluate_snapshot(snapshot.pk)
    run = Evaluation.objects.get(snapshot=snapshot, is_current=True)
    stored = run.result_set.group_ids
    result_list = ResultList.objects.get(pk=ResultGroup.objects.get(pk=stored[0]).result_list_id)
    wide = [ResultGroup.objects.create(pk=pk, sha256=f"{pk:064x}", target_kind="container", target_name=f"wide-{pk}",
                                       result_list=result_list) for pk in (2**30 + 5, 2**24 + 1)]
    ids = [stored[0], wide[0].pk, wide[1].pk]
    wide_set = ResultSet.objects.create(sha256="3" * 64, group_ids=ids)
    Evaluation.objects.filter(pk=run.pk).update(result_set=wide_set)
    assert ResultSet.objects.get(pk=wide_set.pk).group_ids == ids
    rows = list(Result.objects.filter(evaluation_id=run.pk).order_by("id").values_list("id", "target_name"))
    per_group = result_list.rows.count()
    assert len(rows) == 3 * per_group
    names = [name for _, name in rows]
    first = ResultGroup.objects.get(pk=stored[0]).target_name
    assert names == [first] * per_group + [f"wide-{2**30 + 5}"] * per_group + [f"wide-{2**24 + 1}"] * per_group
