"""Celery tasks of the administration: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from compliance.administration import services


@shared_task(
    name="compliance.administration.rejudge_snapshots",
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def rejudge_snapshots(rejudge_id: int) -> str:
    """Re-judge the snapshots of one Rejudge run with the active site policy, recording progress on the run."""
    return services.run_rejudge(rejudge_id)
