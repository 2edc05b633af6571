"""Celery tasks of reports: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from compliance.reports import services

logger = logging.getLogger(__name__)

# Errors that say nothing about the report itself (the database went away, the disk or storage hiccuped): try again.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)
MAX_RETRIES = 3


@shared_task(
    bind=True,
    name="compliance.reports.render_report",
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
)
def render_report(self, report_id: int) -> str:  # noqa: ANN001  (Celery's bound task)
    """Render, sign and store one report; a worker lost mid-render leaves no file and the message is delivered again."""
    try:
        return services.render_report(report_id)
    except TRANSIENT as exc:
        if self.request.retries >= MAX_RETRIES:
            logger.exception("report %s failed after %s retries", report_id, MAX_RETRIES)
            services.fail_report(report_id, exc)
            return "failed"
        raise  # autoretry_for schedules the next attempt
    except Exception as exc:
        # A bug or bad data: retrying renders the same failure; say so on the report.
        logger.exception("report %s failed", report_id)
        services.fail_report(report_id, exc)
        return "failed"


@shared_task(name="compliance.reports.prune_expired_reports")
def prune_expired_reports() -> int:
    return services.prune_expired_reports()
