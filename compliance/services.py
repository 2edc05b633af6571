"""Compliance services: judging stored snapshots and keeping their evaluation state."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from compliance.engine import ENGINE_VERSION, CheckResult, Policy, evaluate
from compliance.models import (
    ControlTally,
    Evaluation,
    PolicyContent,
    ResultContent,
    ResultGroup,
    ResultList,
    ResultRow,
    ResultSet,
    SitePolicy,
    TallyRow,
    TallySet,
    is_stopped,
)
from compliance.result_ids import MAX_GROUPS, MAX_POSITION
from inventory.choices import EvaluationStatus
from inventory.compaction import compact_snapshot
from inventory.models import Snapshot

logger = logging.getLogger(__name__)

# Errors after which the same work succeeds once the database answers again: the task retries them. psycopg's own
# errors reach here unwrapped from a COPY (inventory.bulk), Django's wrapped ones from everything else.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def status_fields(status: str, error: str = "") -> dict[str, Any]:
    """The snapshot fields an evaluation status moves: queued (at ingest) -> running -> done | failed."""
    finished = status in (EvaluationStatus.DONE, EvaluationStatus.FAILED)
    return {"evaluation_status": status, "evaluation_error": error[:2000],
            "evaluated_at": timezone.now() if finished else None}


def set_evaluation_status(snapshot: Snapshot, status: str, error: str = "") -> None:
    """The one place a snapshot's evaluation status moves (and compact_snapshot, which writes status_fields)."""
    fields = status_fields(status, error)
    for name, value in fields.items():
        setattr(snapshot, name, value)
    snapshot.save(update_fields=list(fields))


def enqueue_evaluation(snapshot_id: int) -> None:
    """Queue the judging of a stored snapshot; when the broker is away the snapshot stays queued for evaluate_pending."""
    from compliance.tasks import evaluate_snapshot

    try:
        evaluate_snapshot.delay(snapshot_id)
    except Exception:
        logger.exception("could not enqueue evaluation of snapshot %s", snapshot_id)


def evaluate_snapshot(snapshot_id: int, force: bool = False) -> str:
    """Judge a stored snapshot and store its results in bulk; a run already made by this engine version is kept.

    Returns a short word for the task log: done, skipped, failed or missing.
    """
    snapshot = Snapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None:
        return "missing"
    if not force and snapshot.evaluations.filter(is_current=True, engine_version=ENGINE_VERSION).exists():
        if snapshot.evaluation_status != EvaluationStatus.DONE:
            set_evaluation_status(snapshot, EvaluationStatus.DONE)
        return "skipped"
    # A snapshot already judged keeps standing on its current results while it is judged again (a new engine or
    # policy): posture never falls back to an older snapshot meanwhile, and a failed re-run leaves those results.
    rejudging = snapshot.evaluation_status == EvaluationStatus.DONE and snapshot.evaluations.filter(is_current=True).exists()
    started_at = timezone.now()  # the run's duration (the metrics histogram) counts judging and storing
    document = snapshot.document  # before it is stored by content: the whole document reads fastest
    # Ingest stored the document whole; it is stored by content here, in the UPDATE that marks the run.
    try:
        compact_snapshot(snapshot, document, **({} if rejudging else status_fields(EvaluationStatus.RUNNING)))
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("storing snapshot %s by content failed; it stays whole", snapshot_id)
        if not rejudging:
            set_evaluation_status(snapshot, EvaluationStatus.RUNNING)
    policy_data = SitePolicy.current_data()
    try:
        findings = evaluate(document, Policy.from_dict(policy_data))
    except Exception as exc:
        # A rule that breaks on one snapshot must not hide the snapshot: it shows as failed, with the reason.
        logger.exception("evaluation of snapshot %s failed", snapshot_id)
        with transaction.atomic():
            Evaluation.objects.create(
                snapshot=snapshot, engine_version=ENGINE_VERSION, policy_content=policy_content(policy_data),
                status=EvaluationStatus.FAILED, error=f"{type(exc).__name__}: {exc}", started_at=started_at,
                finished_at=timezone.now(),
            )
        if not rejudging:
            set_evaluation_status(snapshot, EvaluationStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return "failed"
    try:
        store_results(snapshot, findings, policy_data, replace=force or rejudging, started_at=started_at)
    except TRANSIENT_ERRORS:
        raise  # transient: the task retries it
    except Exception as exc:
        logger.exception("storing the results of snapshot %s failed", snapshot_id)
        if not rejudging:
            set_evaluation_status(snapshot, EvaluationStatus.FAILED, f"storing results: {type(exc).__name__}: {exc}")
        return "failed"
    return "done"


def store_results(
    snapshot: Snapshot, findings: list[CheckResult], policy_data: dict[str, Any], replace: bool = True,
    started_at: datetime | None = None,
) -> Evaluation:
    """Store one run's results and tallies as the snapshot's current evaluation; the previous run stays as history.

    With `replace` off, a run of this engine version already stored (a task delivered twice, e.g. re-sent by the
    sweeper while the first was still going) is kept and nothing is written: each snapshot is judged once.
    """
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().only("id").get(pk=snapshot.pk)
        previous = Evaluation.objects.filter(snapshot=locked, is_current=True)
        if not replace:
            stored = previous.filter(engine_version=ENGINE_VERSION).first()
            if stored is not None:
                set_evaluation_status(snapshot, EvaluationStatus.DONE)
                return stored
        # Results and tallies read `is_current` from their evaluation: superseding a run is one row's update.
        previous.update(is_current=False)
        result_set, tally_set = _insert_results(findings)
        # Inserted once, in its final state: no update after (each non-HOT update would add index entries).
        run = Evaluation.objects.create(
            snapshot=snapshot,
            host_id=snapshot.host_id,
            engine_version=ENGINE_VERSION,
            policy_content=policy_content(policy_data),
            status=EvaluationStatus.DONE,
            is_current=True,
            started_at=started_at or timezone.now(),
            finished_at=timezone.now(),
            result_set=result_set,
            tally_set=tally_set,
        )
        set_evaluation_status(snapshot, EvaluationStatus.DONE)
    return run


# Results by content (docs/storage.md): a run's results are a ResultSet of ResultGroups (one per target), each a
# target and a ResultList of ResultRows pointing at ResultContents; its tallies a TallySet of TallyRows. Each is
# stored once per distinct content (its sha256), so a snapshot judged like the one before adds an Evaluation row and
# nothing else.

def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def _ids_by_sha(model: type[Any], objects: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """sha256 -> id of the rows of `model` stored with these hashes, creating those missing; also the hashes that
    were missing (created here, or by a concurrent run of the same content: ON CONFLICT DO NOTHING, then read)."""
    shas = list(objects)
    found: dict[str, int] = {}
    for start in range(0, len(shas), 1000):
        found.update(model.objects.filter(sha256__in=shas[start:start + 1000]).values_list("sha256", "id"))
    missing = [sha for sha in shas if sha not in found]
    if missing:
        model.objects.bulk_create([objects[sha] for sha in missing], batch_size=1000, ignore_conflicts=True)
        for start in range(0, len(missing), 1000):
            found.update(model.objects.filter(sha256__in=missing[start:start + 1000]).values_list("sha256", "id"))
    return found, missing


def policy_content(data: dict[str, Any]) -> PolicyContent:
    """The stored row of this policy data (an empty policy too), created if missing (inside the caller's
    transaction)."""
    sha = _sha(data)
    ids, _ = _ids_by_sha(PolicyContent, {sha: PolicyContent(sha256=sha, data=data)})
    return PolicyContent(pk=ids[sha], sha256=sha, data=data)


def content_key(control: str, status: str, evidence: Any, expected: Any, message: str) -> list[Any]:
    return [control, status, evidence, expected, message]


def _insert_results(findings: list[CheckResult]) -> tuple[ResultSet, TallySet]:
    """The ResultSet and TallySet of these findings, stored where they are not yet (inside the caller's transaction)."""
    contents: dict[str, ResultContent] = {}
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for f in findings:
        control, status = f.control[:16], str(f.status)
        sha = _sha(content_key(control, status, f.evidence, f.expected, f.message))
        if sha not in contents:
            contents[sha] = ResultContent(sha256=sha, control=control, status=status, evidence=f.evidence,
                                          expected=f.expected, message=f.message)
        target = (f.target_kind, f.target_name[:512], (f.target_id or "")[:128], (f.target_state or "")[:32])
        groups.setdefault(target, []).append(sha)
    if len(groups) > MAX_GROUPS or any(len(shas) > MAX_POSITION for shas in groups.values()):
        raise ValueError(f"a snapshot holds at most {MAX_GROUPS} targets of at most {MAX_POSITION} results each")
    content_ids, _ = _ids_by_sha(ResultContent, contents)

    lists = {_sha(shas): shas for shas in groups.values()}
    list_ids, new_lists = _ids_by_sha(ResultList, {sha: ResultList(sha256=sha) for sha in lists})
    if new_lists:
        # Rows of a list another run stored meanwhile are the same rows: their conflicts are ignored.
        ResultRow.objects.bulk_create([
            ResultRow(result_list_id=list_ids[sha], control=contents[c].control, position=position,
                      status=contents[c].status, content_id=content_ids[c])
            for sha in new_lists for position, c in enumerate(lists[sha])
        ], batch_size=2000, ignore_conflicts=True)
    group_objects: dict[str, ResultGroup] = {}
    group_shas: list[str] = []
    for (kind, name, target_id, state), shas in groups.items():
        list_sha = _sha(shas)
        sha = _sha([kind, name, target_id, state, list_sha])
        group_shas.append(sha)
        group_objects[sha] = ResultGroup(sha256=sha, target_kind=kind, target_name=name, target_id=target_id,
                                         target_state=state, result_list_id=list_ids[list_sha])
    group_pks, _ = _ids_by_sha(ResultGroup, group_objects)
    ordered = [group_pks[sha] for sha in group_shas]
    set_sha = _sha(group_shas)
    set_ids, _ = _ids_by_sha(ResultSet, {set_sha: ResultSet(sha256=set_sha, group_ids=ordered)})

    counts: dict[tuple[str, bool], Counter[str]] = {}
    for f in findings:
        counts.setdefault((f.control[:16], is_stopped(f.target_kind, f.target_state)), Counter())[str(f.status)] += 1
    tallies = [
        (control, stopped, {ControlTally.STATUS_FIELDS[status]: n for status, n in sorted(counter.items())})
        for (control, stopped), counter in sorted(counts.items())
    ]
    tally_sha = _sha(tallies)
    totals: Counter[str] = Counter()
    for counter in counts.values():
        totals.update(counter)
    tally_set = TallySet(sha256=tally_sha, counts=dict(sorted(totals.items())))
    tally_ids, new_tallies = _ids_by_sha(TallySet, {tally_sha: tally_set})
    if new_tallies:
        TallyRow.objects.bulk_create([
            TallyRow(tally_set_id=tally_ids[tally_sha], control=control, stopped=stopped, position=position, **values)
            for position, (control, stopped, values) in enumerate(tallies)
        ], batch_size=2000, ignore_conflicts=True)
    tally_set.pk = tally_ids[tally_sha]
    return ResultSet(pk=set_ids[set_sha], sha256=set_sha, group_ids=ordered), tally_set


def delete_unreferenced() -> dict[str, int]:
    """Delete the result and tally sets and the policies no evaluation references any more (after snapshots are
    pruned), then the groups no set lists, the lists no group uses and the contents no row uses. Returns how many of
    each went."""
    from django.db.models import Exists, OuterRef

    deleted: dict[str, int] = {}
    with transaction.atomic():
        sets = ResultSet.objects.exclude(Exists(Evaluation.objects.filter(result_set=OuterRef("pk"))))
        deleted["result_sets"] = sets.delete()[0]
        tallies = TallySet.objects.exclude(Exists(Evaluation.objects.filter(tally_set=OuterRef("pk"))))
        deleted["tally_sets"] = tallies.delete()[1].get("compliance.TallySet", 0)
        used: set[int] = set()
        for groups in ResultSet.objects.values_list("group_ids", flat=True).iterator(chunk_size=2000):
            used.update(groups or ())
        unused = list(ResultGroup.objects.exclude(pk__in=used).values_list("pk", flat=True)) if used else \
            list(ResultGroup.objects.values_list("pk", flat=True))
        deleted["result_groups"] = 0
        for start in range(0, len(unused), 1000):
            deleted["result_groups"] += ResultGroup.objects.filter(pk__in=unused[start:start + 1000]).delete()[1].get(
                "compliance.ResultGroup", 0)
        lists = ResultList.objects.exclude(Exists(ResultGroup.objects.filter(result_list=OuterRef("pk"))))
        deleted["result_lists"] = lists.delete()[1].get("compliance.ResultList", 0)
        contents = ResultContent.objects.exclude(Exists(ResultRow.objects.filter(content_id=OuterRef("pk"))))
        deleted["result_contents"] = contents.delete()[0]
        policies = PolicyContent.objects.exclude(Exists(Evaluation.objects.filter(policy_content=OuterRef("pk"))))
        deleted["policy_contents"] = policies.delete()[0]
    return deleted


def enqueue_pending(queued_for: timedelta, running_for: timedelta, include_failed: bool = False) -> int:
    """Send again the snapshots whose evaluation seems lost: queued longer than `queued_for` (the broker was down, or
    dropped the task), running longer than `running_for` (the worker died). Evaluation is idempotent per engine
    version, so a snapshot sent twice is judged once. Returns how many were sent."""
    now = timezone.now()
    lost = Snapshot.objects.filter(evaluation_status=EvaluationStatus.QUEUED, received_at__lt=now - queued_for)
    lost |= Snapshot.objects.filter(evaluation_status=EvaluationStatus.RUNNING, received_at__lt=now - running_for)
    if include_failed:
        lost |= Snapshot.objects.filter(evaluation_status=EvaluationStatus.FAILED)
    ids = list(lost.order_by("received_at", "id").values_list("id", flat=True)[:10_000])
    for snapshot_id in ids:
        enqueue_evaluation(snapshot_id)
    return len(ids)

