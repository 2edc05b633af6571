"""Daily beat task of the evidence app: a thin wrapper over the service (the schedule is in the Celery config)."""

from celery import shared_task

from compliance.evidence import services


# SMTP errors are OSErrors; a retry sends only the reminders not yet recorded.
@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_evidence_expiry_reminders() -> int:
    return services.send_evidence_expiry_reminders()
