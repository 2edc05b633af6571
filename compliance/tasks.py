"""Celery tasks: thin wrappers that take ids, re-fetch, and call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from compliance import services
from compliance.verification import verify_evidence_task  # noqa: F401  (registers compliance.verify_evidence)

logger = logging.getLogger(__name__)

# A queued snapshot is re-sent only while the broker's queue is empty: a task still waiting in it would otherwise be
# sent again on every sweep until the workers reach it, and a backlog (after an outage) would grow by itself.
NEVER = timedelta(days=36500)


@shared_task(
    name="compliance.evaluate_snapshot",
    autoretry_for=(*services.TRANSIENT_ERRORS, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def evaluate_snapshot(snapshot_id: int) -> str:
    """Judge one stored snapshot against CIS Docker v1.6.0; idempotent for a given engine version."""
    return services.evaluate_snapshot(snapshot_id)


# A sweep is worth running only near when beat sent it: sweeps queued while no worker ran are dropped, not run in a
# row when one comes back.
@shared_task(name="compliance.sweep_evaluations", expires=50)
def sweep_evaluations() -> int:
    """Every minute on beat: re-send evaluations lost to a broker outage or a dead worker, without anyone's command.

    Snapshots queued for PLIMSOLL_SWEEP_QUEUED_SECONDS are re-sent when the broker holds no waiting task (the lost
    ones cannot still be on their way); snapshots running for PLIMSOLL_SWEEP_RUNNING_SECONDS always (their worker
    may be dead: its task comes back only after the broker's visibility timeout). Judging is idempotent, so a
    snapshot sent twice is judged once (docs/operations.md)."""
    waiting = waiting_tasks()
    queued_for = NEVER if waiting else timedelta(seconds=settings.PLIMSOLL_SWEEP_QUEUED_SECONDS)
    sent = services.enqueue_pending(
        queued_for=queued_for,
        running_for=timedelta(seconds=settings.PLIMSOLL_SWEEP_RUNNING_SECONDS),
    )
    if sent or waiting:
        logger.info("sweep: %s evaluations re-sent, %s tasks waiting in the broker", sent, waiting)
    return sent


def waiting_tasks() -> int | None:
    """How many tasks wait in the default queue (not counting those a worker holds), or None if the broker cannot
    say; with None the sweep re-sends as if none waited (a duplicate is judged once; a lost one must not stay lost)."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        return 0  # tasks run in-process (the embedded mode): none waits anywhere
    queue = current_app.conf.task_default_queue
    try:
        with current_app.connection_for_read() as connection:
            try:
                return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
            except connection.channel_errors:  # no such queue: Redis drops an empty list, so nothing waits
                return 0
    except Exception:  # the broker is away or does not count: sweep anyway
        logger.warning("sweep: cannot count the tasks waiting in %r", queue, exc_info=True)
        return None


@shared_task(name="compliance.delete_unreferenced_results")
def delete_unreferenced_results() -> dict[str, int]:
    """After snapshots are pruned: drop the result and tally sets no evaluation references any more."""
    return services.delete_unreferenced()
