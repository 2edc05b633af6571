"""The data steps of compliance 0011/0012: old result and tally rows -> results by content, and back.

Self-contained (historical models, its own hashing identical to compliance.services), so later changes of the app's
code do not change what the migration did. Evaluations are moved in batches, each in its own short transaction; an
evaluation is moved when its `host` is set, so a batch interrupted is resumed and a moved one is never moved twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction

BATCH = 100
BASE, EVALUATION_SHIFT, GROUP_SHIFT = 2**40, 2**22, 2**10
COUNT_FIELDS = ("passed", "failed", "info", "manual", "not_applicable", "error")
STATUS_FIELDS = {"pass": "passed", "fail": "failed", "info": "info", "manual": "manual",
                 "not_applicable": "not_applicable", "error": "error"}
RESULT_FIELDS = ("id", "control", "target_kind", "target_name", "target_id", "target_state", "status", "evidence",
                 "expected", "message")


def sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def _ids_by_sha(model: Any, objects: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    shas = list(objects)
    found: dict[str, int] = {}
    for start in range(0, len(shas), 1000):
        found.update(model.objects.filter(sha256__in=shas[start:start + 1000]).values_list("sha256", "id"))
    missing = [s for s in shas if s not in found]
    if missing:
        model.objects.bulk_create([objects[s] for s in missing], batch_size=1000, ignore_conflicts=True)
        for start in range(0, len(missing), 1000):
            found.update(model.objects.filter(sha256__in=missing[start:start + 1000]).values_list("sha256", "id"))
    return found, missing


def _move(apps: Any, evaluation_ids: list[int]) -> int:
    """Move the results and tallies of these evaluations; returns how many results were moved."""
    Evaluation = apps.get_model("compliance", "Evaluation")
    Result = apps.get_model("compliance", "Result")
    ControlTally = apps.get_model("compliance", "ControlTally")
    ResultContent = apps.get_model("compliance", "ResultContent")
    ResultGroup = apps.get_model("compliance", "ResultGroup")
    ResultList = apps.get_model("compliance", "ResultList")
    ResultRow = apps.get_model("compliance", "ResultRow")
    ResultSet = apps.get_model("compliance", "ResultSet")
    TallySet = apps.get_model("compliance", "TallySet")
    TallyRow = apps.get_model("compliance", "TallyRow")
    ResultAlias = apps.get_model("compliance", "ResultAlias")

    results: dict[int, list[tuple[Any, ...]]] = {}
    for row in (Result.objects.filter(evaluation_id__in=evaluation_ids).order_by("evaluation_id", "id")
                .values_list("evaluation_id", *RESULT_FIELDS).iterator(chunk_size=5000)):
        results.setdefault(row[0], []).append(row[1:])
    tallies: dict[int, list[tuple[Any, ...]]] = {}
    for row in (ControlTally.objects.filter(evaluation_id__in=evaluation_ids)
                .values_list("evaluation_id", "control", "stopped", *COUNT_FIELDS)):
        tallies.setdefault(row[0], []).append(row[1:])

    contents: dict[str, Any] = {}
    plans: dict[int, list[tuple[str, tuple[str, str, str, str], list[tuple[str, int]]]]] = {}
    for evaluation_id, rows in results.items():
        groups: dict[tuple[str, str, str, str], list[tuple[str, int]]] = {}
        for old_id, control, kind, name, target_id, state, status, evidence, expected, message in rows:
            content_sha = sha([control, status, evidence, expected, message])
            if content_sha not in contents:
                contents[content_sha] = ResultContent(sha256=content_sha, control=control, status=status,
                                                      evidence=evidence, expected=expected, message=message)
            groups.setdefault((kind, name, target_id or "", state or ""), []).append((content_sha, old_id))
        plans[evaluation_id] = [(sha([*target, sha([c for c, _ in items])]), target, items)
                                for target, items in groups.items()]
    content_ids, _ = _ids_by_sha(ResultContent, contents)

    lists = {sha([c for c, _ in items]): [c for c, _ in items]
             for plan in plans.values() for _, _, items in plan}
    list_ids, new_lists = _ids_by_sha(ResultList, {s: ResultList(sha256=s) for s in lists})
    if new_lists:
        ResultRow.objects.bulk_create([
            ResultRow(result_list_id=list_ids[s], control=contents[c].control, position=position,
                      status=contents[c].status, content_id=content_ids[c])
            for s in new_lists for position, c in enumerate(lists[s])
        ], batch_size=5000, ignore_conflicts=True)
    group_objects: dict[str, Any] = {}
    for plan in plans.values():
        for group_sha, (kind, name, target_id, state), items in plan:
            group_objects[group_sha] = ResultGroup(sha256=group_sha, target_kind=kind, target_name=name,
                                                   target_id=target_id, target_state=state,
                                                   result_list_id=list_ids[sha([c for c, _ in items])])
    group_ids, _ = _ids_by_sha(ResultGroup, group_objects)

    sets: dict[int, str] = {}
    set_objects: dict[str, Any] = {}
    aliases = []
    for evaluation_id, plan in plans.items():
        set_sha = sha([g for g, _, _ in plan])
        sets[evaluation_id] = set_sha
        set_objects[set_sha] = ResultSet(sha256=set_sha, groups=[group_ids[g] for g, _, _ in plan])
        for index, (_, _, items) in enumerate(plan):
            for position, (_, old_id) in enumerate(items):
                aliases.append(ResultAlias(old_id=old_id, new_id=BASE + evaluation_id * EVALUATION_SHIFT
                                           + index * GROUP_SHIFT + position))
    set_ids, _ = _ids_by_sha(ResultSet, set_objects)
    ResultAlias.objects.bulk_create(aliases, batch_size=5000, ignore_conflicts=True)

    tally_sets: dict[int, str] = {}
    tally_objects: dict[str, Any] = {}
    tally_rows: dict[str, list[tuple[str, bool, dict[str, int]]]] = {}
    for evaluation_id, rows in tallies.items():
        canonical = sorted((control, stopped, {f: n for f, n in zip(COUNT_FIELDS, counts, strict=True) if n})
                           for control, stopped, *counts in rows)
        tally_sha = sha(canonical)
        tally_sets[evaluation_id] = tally_sha
        tally_objects[tally_sha] = TallySet(sha256=tally_sha)
        tally_rows[tally_sha] = canonical
    tally_ids, new_tallies = _ids_by_sha(TallySet, tally_objects)
    if new_tallies:
        TallyRow.objects.bulk_create([
            TallyRow(tally_set_id=tally_ids[t], control=control, stopped=stopped, position=position, **values)
            for t in new_tallies for position, (control, stopped, values) in enumerate(tally_rows[t])
        ], batch_size=5000, ignore_conflicts=True)

    # The host through values(): the snapshot row's other columns may have changed since (inventory 0009).
    hosts = dict(Evaluation.objects.filter(pk__in=evaluation_ids).values_list("pk", "snapshot__host_id"))
    for evaluation in Evaluation.objects.filter(pk__in=evaluation_ids):
        evaluation.host_id = hosts[evaluation.pk]
        evaluation.result_set_id = set_ids[sets[evaluation.pk]] if evaluation.pk in sets else None
        evaluation.tally_set_id = tally_ids[tally_sets[evaluation.pk]] if evaluation.pk in tally_sets else None
        evaluation.save(update_fields=["host", "result_set", "tally_set"])
    return sum(len(rows) for rows in results.values())


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def move_all(apps: Any, schema_editor: Any) -> None:
    """Forward, in batches of their own transactions (the migration is not atomic): old rows stay until 0012."""
    Evaluation = apps.get_model("compliance", "Evaluation")
    alias = schema_editor.connection.alias
    pending = list(Evaluation.objects.using(alias).filter(host__isnull=True).order_by("id").values_list("id", flat=True))
    for batch in _batches(pending):
        with transaction.atomic(using=alias):
            _move(apps, batch)


def catch_up(apps: Any, schema_editor: Any) -> None:
    """Inside 0012's transaction: writers of old rows are held off, and whatever they wrote since 0011 is moved."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE compliance_evaluation, compliance_result, compliance_controltally "
                           "IN SHARE ROW EXCLUSIVE MODE")
    Evaluation = apps.get_model("compliance", "Evaluation")
    for batch in _batches(Evaluation.objects.filter(host__isnull=True).order_by("id").values_list("id", flat=True)):
        _move(apps, batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The deferred foreign-key checks of what was written run now: the ALTER TABLE after needs none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def move_back(apps: Any, schema_editor: Any) -> None:
    """Backward (0011 reversed, after 0012 reversed re-created the old tables): one row per result and tally again,
    with the old ids where the results had one."""
    Evaluation = apps.get_model("compliance", "Evaluation")
    Result = apps.get_model("compliance", "Result")
    ControlTally = apps.get_model("compliance", "ControlTally")
    ResultRow = apps.get_model("compliance", "ResultRow")
    ResultGroup = apps.get_model("compliance", "ResultGroup")
    ResultContent = apps.get_model("compliance", "ResultContent")
    ResultSet = apps.get_model("compliance", "ResultSet")
    TallyRow = apps.get_model("compliance", "TallyRow")
    ResultAlias = apps.get_model("compliance", "ResultAlias")
    old_of = {new: old for old, new in ResultAlias.objects.values_list("old_id", "new_id")}
    next_id = max(old_of.values(), default=0) + 1
    evaluations = Evaluation.objects.exclude(result_set=None, tally_set=None).order_by("id")
    for evaluation in evaluations.iterator(chunk_size=200):
        rows = []
        groups = ResultSet.objects.get(pk=evaluation.result_set_id).groups if evaluation.result_set_id else []
        by_id = ResultGroup.objects.in_bulk(groups)
        for index, group_id in enumerate(groups):
            group = by_id[group_id]
            members = ResultRow.objects.filter(result_list_id=group.result_list_id).order_by("position")
            contents = ResultContent.objects.in_bulk([m.content_id for m in members])
            for member in members:
                content = contents[member.content_id]
                new_id = BASE + evaluation.pk * EVALUATION_SHIFT + index * GROUP_SHIFT + member.position
                old_id = old_of.get(new_id)
                if old_id is None:
                    old_id, next_id = next_id, next_id + 1
                rows.append(Result(
                    id=old_id, evaluation_id=evaluation.pk, snapshot_id=evaluation.snapshot_id,
                    host_id=evaluation.host_id, is_current=evaluation.is_current, control=content.control,
                    target_kind=group.target_kind, target_name=group.target_name, target_id=group.target_id,
                    target_state=group.target_state, status=content.status, evidence=content.evidence,
                    expected=content.expected, message=content.message,
                ))
        Result.objects.bulk_create(rows, batch_size=2000)
        if evaluation.tally_set_id:
            ControlTally.objects.bulk_create([
                ControlTally(evaluation_id=evaluation.pk, snapshot_id=evaluation.snapshot_id, host_id=evaluation.host_id,
                             is_current=evaluation.is_current, control=t.control, stopped=t.stopped,
                             **{f: getattr(t, f) for f in COUNT_FIELDS})
                for t in TallyRow.objects.filter(tally_set_id=evaluation.tally_set_id).order_by("position")
            ], batch_size=2000)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('compliance_result', 'id'), "
                           "COALESCE((SELECT MAX(id) FROM compliance_result), 0) + 1, false)")
    Evaluation.objects.update(host=None, result_set=None, tally_set=None)
