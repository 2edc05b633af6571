"""Celery tasks: thin wrappers that take ids, re-fetch, and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from compliance import services

logger = logging.getLogger(__name__)


@shared_task(
    name="compliance.evaluate_snapshot",
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def evaluate_snapshot(snapshot_id: int) -> str:
    """Judge one stored snapshot against CIS Docker v1.6.0; idempotent for a given engine version."""
    return services.evaluate_snapshot(snapshot_id)
