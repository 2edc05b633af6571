"""Celery tasks of the administration: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from compliance.administration import services
from compliance.services import TRANSIENT_ERRORS


@shared_task(
    name="compliance.administration.rejudge_snapshots",
    # The errors the evaluation task retries (psycopg's own from a COPY too); the run resumes after the last
    # snapshot it counted.
    autoretry_for=(*TRANSIENT_ERRORS, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def rejudge_snapshots(rejudge_id: int) -> str:
    """Re-judge the snapshots of one Rejudge run with the active site policy, recording progress on the run."""
    return services.run_rejudge(rejudge_id)
