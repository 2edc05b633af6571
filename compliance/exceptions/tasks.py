"""Daily beat tasks of the exceptions app: thin wrappers over services (the schedule is in the Celery config)."""

from celery import shared_task

from compliance.exceptions import services


# SMTP errors are OSErrors; a retry sends only the reminders not yet recorded.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_expiry_reminders() -> int:
    return services.send_expiry_reminders()


@shared_task
def flag_stale_exceptions() -> int:
    return services.flag_stale_exceptions()
