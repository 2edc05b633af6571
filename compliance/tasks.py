"""Celery tasks: thin wrappers that take ids, re-fetch, and call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from compliance import services

logger = logging.getLogger(__name__)


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


@shared_task(name="compliance.sweep_evaluations")
def sweep_evaluations() -> int:
    """Every minute on beat: re-send evaluations lost to a broker outage or a dead worker, without anyone's command."""
    return services.enqueue_pending(
        queued_for=timedelta(seconds=settings.PLIMSOLL_SWEEP_QUEUED_SECONDS),
        running_for=timedelta(seconds=settings.PLIMSOLL_SWEEP_RUNNING_SECONDS),
    )

