"""The data steps of compliance 0015/0016: an evaluation's policy by content, its counts on its tally set, a result
set's group ids packed (docs/storage.md), and back.

Self-contained (historical models, its own hashing identical to compliance.services), so later changes of the app's
code do not change what the migration did. Rows are filled in batches by id, each batch in its own short transaction
when run by 0015; a row is filled when its new column is null, so an interrupted run resumes and what the old code
writes meanwhile is caught up by 0016 under its lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum

BATCH = 1000
COUNT_FIELDS = {"passed": "pass", "failed": "fail", "info": "info", "manual": "manual",
                "not_applicable": "not_applicable", "error": "error"}
TABLES = ("compliance_evaluation", "compliance_resultset", "compliance_tallyset")


class CountsDiffer(Exception):
    """An evaluation's stored counts are not the sums of its tallies: dropping them would lose something."""


def sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def _ids_by_sha(model: Any, objects: dict[str, Any]) -> dict[str, int]:
    shas = list(objects)
    found = dict(model.objects.filter(sha256__in=shas).values_list("sha256", "id"))
    missing = [s for s in shas if s not in found]
    if missing:
        model.objects.bulk_create([objects[s] for s in missing], ignore_conflicts=True)
        found.update(model.objects.filter(sha256__in=missing).values_list("sha256", "id"))
    return found


def _batched(pending: Any, step: Callable[[list[Any]], None], own_transactions: bool, alias: str) -> None:
    """Run `step` over the rows of `pending` (a queryset ordered by id, of rows still to fill) by batches of BATCH,
    each in its own transaction when asked; keyset by id, so rows filled are not read again."""
    last = 0
    while True:
        with transaction.atomic(using=alias) if own_transactions else nullcontext():
            rows = list(pending.filter(pk__gt=last).order_by("pk")[:BATCH])
            if not rows:
                return
            step(rows)
        last = rows[-1].pk


def tally_counts(apps: Any, tally_set_ids: list[int]) -> dict[int, dict[str, int]]:
    """Results per status of these tally sets: the sums of their rows (statuses counted nowhere left out)."""
    TallyRow = apps.get_model("compliance", "TallyRow")
    sums = (TallyRow.objects.filter(tally_set_id__in=tally_set_ids).values("tally_set_id")
            .annotate(**{f"sum_{f}": Sum(f) for f in COUNT_FIELDS}).order_by())
    found: dict[int, dict[str, int]] = {pk: {} for pk in tally_set_ids}
    for row in sums:
        found[row["tally_set_id"]] = {status: row[f"sum_{f}"] for f, status in sorted(COUNT_FIELDS.items(),
                                                                                     key=lambda kv: kv[1])
                                      if row[f"sum_{f}"]}
    return found


def fill(apps: Any, schema_editor: Any, own_transactions: bool = True) -> None:
    """Forward: the new columns of every row where they are still null."""
    alias = schema_editor.connection.alias
    Evaluation = apps.get_model("compliance", "Evaluation")
    PolicyContent = apps.get_model("compliance", "PolicyContent")
    ResultSet = apps.get_model("compliance", "ResultSet")
    TallySet = apps.get_model("compliance", "TallySet")

    def tally_sets(rows: list[Any]) -> None:
        counts = tally_counts(apps, [t.pk for t in rows])
        for t in rows:
            t.counts = counts[t.pk]
        TallySet.objects.bulk_update(rows, ["counts"])

    def evaluations(rows: list[Any]) -> None:
        policies = {sha(e.policy or {}): e.policy or {} for e in rows}
        policy_ids = _ids_by_sha(PolicyContent, {s: PolicyContent(sha256=s, data=d) for s, d in policies.items()})
        stored = dict(TallySet.objects.filter(pk__in={e.tally_set_id for e in rows if e.tally_set_id})
                      .values_list("pk", "counts"))
        unfilled = [pk for pk, counts in stored.items() if counts is None]  # stored by the old code meanwhile
        if unfilled:
            tally_sets(list(TallySet.objects.filter(pk__in=unfilled).only("pk")))
            stored.update(tally_counts(apps, unfilled))
        counts_only: dict[str, dict[str, int]] = {}
        for e in rows:
            counts = {s: n for s, n in (e.counts or {}).items() if n}
            if e.tally_set_id is None and counts:
                # Judged before tallies existed (compliance 0003): a tally set of no rows keeps its counts.
                counts_only[sha({"counts": counts})] = counts
            elif counts != (stored.get(e.tally_set_id) or {}):
                raise CountsDiffer(f"evaluation {e.pk}: counts {e.counts} are not the sums of its tallies "
                                   f"{stored.get(e.tally_set_id)}; nothing was dropped")
        counts_ids = _ids_by_sha(TallySet, {s: TallySet(sha256=s, counts=c) for s, c in counts_only.items()})
        for e in rows:
            e.policy_content_id = policy_ids[sha(e.policy or {})]
            counts = {s: n for s, n in (e.counts or {}).items() if n}
            if e.tally_set_id is None and counts:
                e.tally_set_id = counts_ids[sha({"counts": counts})]
        Evaluation.objects.bulk_update(rows, ["policy_content", "tally_set"])

    def result_sets(rows: list[Any]) -> None:
        for s in rows:
            s.group_ids = [int(g) for g in s.groups]
        ResultSet.objects.bulk_update(rows, ["group_ids"])

    # Tally sets first: the evaluations compare their counts with them.
    _batched(TallySet.objects.using(alias).filter(counts__isnull=True).only("pk"), tally_sets, own_transactions, alias)
    _batched(Evaluation.objects.using(alias).filter(policy_content__isnull=True)
             .only("pk", "policy", "counts", "tally_set_id"), evaluations, own_transactions, alias)
    _batched(ResultSet.objects.using(alias).filter(group_ids__isnull=True).only("pk", "groups"), result_sets,
             own_transactions, alias)


def catch_up(apps: Any, schema_editor: Any) -> None:
    """Inside 0016's transaction: writers of the old columns are held off, and what they wrote since 0015 is filled."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
    fill(apps, schema_editor, own_transactions=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The deferred foreign-key checks of what was written run now: the ALTER TABLE after needs none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def fill_back(apps: Any, schema_editor: Any) -> None:
    """Backward (0015 reversed, after 0016 reversed re-added the old columns): each evaluation's policy and counts
    and each result set's groups again, from the new columns, in batches; counts-only tally sets go back to none."""
    alias = schema_editor.connection.alias
    Evaluation = apps.get_model("compliance", "Evaluation")
    ResultSet = apps.get_model("compliance", "ResultSet")
    TallySet = apps.get_model("compliance", "TallySet")
    TallyRow = apps.get_model("compliance", "TallyRow")

    def evaluations(rows: list[Any]) -> None:
        tallies = {e.tally_set_id for e in rows if e.tally_set_id}
        counts = dict(TallySet.objects.filter(pk__in=tallies).values_list("pk", "counts"))
        with_rows = set(TallyRow.objects.filter(tally_set_id__in=tallies).values_list("tally_set_id", flat=True)
                        .distinct())
        for e in rows:
            e.policy = e.policy_content.data if e.policy_content_id else {}
            e.counts = dict(counts.get(e.tally_set_id) or {})
            if e.tally_set_id and e.tally_set_id not in with_rows:
                e.tally_set_id = None  # a counts-only set (judged before tallies): as it was
        Evaluation.objects.bulk_update(rows, ["policy", "counts", "tally_set"])

    def result_sets(rows: list[Any]) -> None:
        for s in rows:
            s.groups = list(s.group_ids or [])
        ResultSet.objects.bulk_update(rows, ["groups"])

    _batched(Evaluation.objects.using(alias).select_related("policy_content")
             .only("pk", "tally_set_id", "policy_content__data"), evaluations, True, alias)
    _batched(ResultSet.objects.using(alias).only("pk", "group_ids"), result_sets, True, alias)
    # The counts-only tally sets 0015 made, now referenced by nothing.
    TallySet.objects.using(alias).exclude(Exists(TallyRow.objects.filter(tally_set_id=OuterRef("pk")))).exclude(
        Exists(Evaluation.objects.filter(tally_set_id=OuterRef("pk")))).delete()
