"""Posture tasks: the daily record of every assessment's summary, for trend charts."""

from celery import shared_task

from compliance.posture import services


@shared_task(name="compliance.posture.record_daily_posture")
def record_daily_posture() -> int:
    return services.record_daily_posture()
