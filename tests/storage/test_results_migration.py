"""compliance 0010-0012: old result and tally rows move to results by content without losing a result, a tally, an
id or the current run of a snapshot; a run interrupted resumes, what is judged meanwhile is caught up, and the way
back restores the old rows with their ids."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from compliance.migrations._results_by_content import _move
from inventory.services import ingest_snapshot
from tests.storage.test_equivalence import document, judged_here, latest, migrate, store_old  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("compliance", "0009_report_view_permission")]
TABLES = [("compliance", "0010_results_by_content")]
DATA = [("compliance", "0011_results_by_content_data")]
VIEWS = [("compliance", "0012_results_views")]
T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
FIELDS = ("id", "evaluation_id", "snapshot_id", "host_id", "is_current", "control", "target_kind", "target_name",
          "target_id", "target_state", "status", "evidence", "expected", "message")
TALLY = ("evaluation_id", "snapshot_id", "host_id", "is_current", "control", "stopped", "passed", "failed", "info",
         "manual", "not_applicable", "error")


@pytest.fixture
def back_to_the_latest_afterwards() -> Iterator[None]:
    yield
    migrate(latest())


def state(targets: list[tuple[str, str]]) -> Any:
    return MigrationExecutor(connection).loader.project_state(targets).apps


def results(apps: Any) -> dict[int, tuple[Any, ...]]:
    rows = apps.get_model("compliance", "Result").objects.values_list(*FIELDS)
    return {row[0]: (*row[1:11], json.dumps(row[11], sort_keys=True), json.dumps(row[12], sort_keys=True), row[13])
            for row in rows}


def tallies(apps: Any) -> list[tuple[Any, ...]]:
    return sorted(apps.get_model("compliance", "ControlTally").objects.values_list(*TALLY))


@pytest.mark.usefixtures("back_to_the_latest_afterwards", "judged_here")
def test_it_moves_every_result_and_tally_and_back(agent_token):
    migrate(BEFORE)
    apps = state(BEFORE)
    agent = agent_token[0]
    snapshots = []
    for step in range(2):
        for host in ("web", "db"):
            snapshot = ingest_snapshot(document(host, T0 + step * HOUR, step), agent).snapshot
            store_old(apps, snapshot)
            snapshots.append(snapshot)
    store_old(apps, snapshots[0], {"max_unused_images": 0})  # judged twice: the first run is history
    apps.get_model("compliance", "Evaluation").objects.create(  # a failed run: no results
        snapshot_id=snapshots[1].pk, engine_version="0", status="failed", error="boom")

    # Step 1, then a batch moved before an interruption, then a snapshot judged by the old code meanwhile.
    migrate(TABLES)
    apps = state(TABLES)
    first_batch = sorted(apps.get_model("compliance", "Evaluation").objects.values_list("id", flat=True))[:2]
    _move(apps, first_batch)
    late = ingest_snapshot(document("edge", T0, 2), agent).snapshot
    store_old(apps, late)
    old = results(apps)
    old_tallies = tallies(apps)
    evaluations = sorted(apps.get_model("compliance", "Evaluation").objects.values_list("id", "snapshot_id", "is_current"))
    assert len(old) > 1000

    # Step 2 resumes: what was moved is not moved again.
    migrate(DATA)
    apps = state(DATA)
    assert apps.get_model("compliance", "ResultAlias").objects.count() == len(old)
    # Judged by the old code after step 2: step 3 catches it up under its lock.
    later = ingest_snapshot(document("edge", T0 + HOUR, 1), agent).snapshot
    store_old(apps, later)
    old = results(apps)
    old_tallies = tallies(apps)
    evaluations = sorted(apps.get_model("compliance", "Evaluation").objects.values_list("id", "snapshot_id", "is_current"))

    migrate(VIEWS)
    apps = state(VIEWS)
    Evaluation = apps.get_model("compliance", "Evaluation")
    assert sorted(Evaluation.objects.values_list("id", "snapshot_id", "is_current")) == evaluations
    assert not Evaluation.objects.filter(host=None).exists()
    assert Evaluation.objects.get(status="failed").result_set_id is None
    alias = dict(apps.get_model("compliance", "ResultAlias").objects.values_list("old_id", "new_id"))
    assert alias.keys() == old.keys() and len(set(alias.values())) == len(alias)
    new = results(apps)
    assert len(new) == len(old)
    # Every old result, field for field, under its new id.
    assert {alias[pk]: row for pk, row in old.items()} == new
    assert tallies(apps) == old_tallies
    # Content is shared: far fewer stored judgements than results.
    assert apps.get_model("compliance", "ResultContent").objects.count() < len(old) / 5

    # The way back: the old rows again, with their old ids.
    migrate(BEFORE)
    apps = state(BEFORE)
    assert results(apps) == old
    assert tallies(apps) == old_tallies
    # And forward again, as a second run on the same database would.
    migrate(VIEWS)
    assert results(state(VIEWS)) == {alias[pk]: row for pk, row in old.items()}
