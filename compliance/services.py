"""Compliance services: judging stored snapshots and keeping their evaluation state."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from compliance.engine import ENGINE_VERSION, CheckResult, Policy, evaluate
from compliance.models import ControlTally, Evaluation, Result, SitePolicy, is_stopped
from inventory.bulk import bulk_insert
from inventory.choices import EvaluationStatus
from inventory.models import Snapshot

logger = logging.getLogger(__name__)

# Errors after which the same work succeeds once the database answers again: the task retries them. psycopg's own
# errors reach here unwrapped from a COPY (inventory.bulk), Django's wrapped ones from everything else.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def set_evaluation_status(snapshot: Snapshot, status: str, error: str = "") -> None:
    """The one place a snapshot's evaluation status moves: queued (at ingest) -> running -> done | failed."""
    snapshot.evaluation_status = status
    snapshot.evaluation_error = error[:2000]
    snapshot.evaluated_at = timezone.now() if status in (EvaluationStatus.DONE, EvaluationStatus.FAILED) else None
    snapshot.save(update_fields=["evaluation_status", "evaluation_error", "evaluated_at"])


def enqueue_evaluation(snapshot_id: int) -> None:
    """Queue the judging of a stored snapshot; when the broker is away the snapshot stays queued for evaluate_pending."""
    from compliance.tasks import evaluate_snapshot

    try:
        evaluate_snapshot.delay(snapshot_id)
    except Exception:
        logger.exception("could not enqueue evaluation of snapshot %s", snapshot_id)


def _tallies(run: Evaluation, snapshot: Snapshot, findings: list[CheckResult]) -> list[ControlTally]:
    counts: dict[tuple[str, bool], Counter[str]] = {}
    for f in findings:
        stopped = is_stopped(f.target_kind, f.target_state)
        counts.setdefault((f.control, stopped), Counter())[f.status] += 1
    rows = []
    for (control, stopped), counter in counts.items():
        values = {ControlTally.STATUS_FIELDS[status]: n for status, n in counter.items()}
        rows.append(ControlTally(evaluation=run, snapshot_id=snapshot.pk, host_id=snapshot.host_id, control=control,
                                 stopped=stopped, **values))
    return rows


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
    if not rejudging:
        set_evaluation_status(snapshot, EvaluationStatus.RUNNING)
    policy_data = SitePolicy.current_data()
    try:
        findings = evaluate(snapshot.document, Policy.from_dict(policy_data))
    except Exception as exc:
        # A rule that breaks on one snapshot must not hide the snapshot: it shows as failed, with the reason.
        logger.exception("evaluation of snapshot %s failed", snapshot_id)
        Evaluation.objects.create(
            snapshot=snapshot, engine_version=ENGINE_VERSION, policy=policy_data, status=EvaluationStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
        )
        if not rejudging:
            set_evaluation_status(snapshot, EvaluationStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return "failed"
    try:
        store_results(snapshot, findings, policy_data, replace=force or rejudging)
    except TRANSIENT_ERRORS:
        raise  # transient: the task retries it
    except Exception as exc:
        logger.exception("storing the results of snapshot %s failed", snapshot_id)
        if not rejudging:
            set_evaluation_status(snapshot, EvaluationStatus.FAILED, f"storing results: {type(exc).__name__}: {exc}")
        return "failed"
    return "done"


def store_results(
    snapshot: Snapshot, findings: list[CheckResult], policy_data: dict[str, Any], replace: bool = True
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
        Result.objects.filter(evaluation__in=previous).update(is_current=False)
        ControlTally.objects.filter(evaluation__in=previous).update(is_current=False)
        previous.update(is_current=False)
        run = Evaluation.objects.create(
            snapshot=snapshot,
            engine_version=ENGINE_VERSION,
            policy=policy_data,
            status=EvaluationStatus.DONE,
            is_current=True,
            finished_at=timezone.now(),
            counts=dict(Counter(f.status for f in findings)),
        )
        _insert_results(run, snapshot, findings)
        ControlTally.objects.bulk_create(_tallies(run, snapshot, findings), batch_size=1000)
        set_evaluation_status(snapshot, EvaluationStatus.DONE)
    return run



RESULT_COLUMNS = (
    "evaluation_id", "snapshot_id", "host_id", "is_current", "control", "target_kind", "target_name", "target_id",
    "target_state", "status", "evidence", "expected", "message",
)


def _insert_results(run: Evaluation, snapshot: Snapshot, findings: list[CheckResult]) -> None:
    bulk_insert(Result, RESULT_COLUMNS, (
        (run.pk, snapshot.pk, snapshot.host_id, True, f.control[:16], f.target_kind, f.target_name[:512],
         (f.target_id or "")[:128], (f.target_state or "")[:32], str(f.status), f.evidence, f.expected, f.message)
        for f in findings
    ))


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

