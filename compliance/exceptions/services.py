"""Exception (risk acceptance) services: request, change, approve, reject, revoke; reminders, staleness, matching.

The posture code reads `active_exceptions(at)` and calls `mark_matched(ids, at)` for those that covered a result.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import created, diff, field_values, record
from common.roles import can_manage
from compliance.exceptions.choices import RiskAcceptanceStatus
from compliance.exceptions.models import (
    ExpiryReminder,
    FourEyesViolation,
    NotPermitted,
    RiskAcceptance,
    TransitionNotAllowed,
    stale_after_days,
)

Status = RiskAcceptanceStatus

# Fields a requester fills in; they may change while the exception is still requested.
EDITABLE_FIELDS = [
    "control", "scope_kind", "scope_selector", "scope_host", "scope_container_pattern", "scope_image",
    "justification", "compensating_controls", "risk_rating", "expires_at",
]
DECISION_FIELDS = [
    "status", "approved_by", "approved_at", "rejected_by", "rejected_at", "decision_note", "revoked_by", "revoked_at",
    "revocation_reason",
]


def reminder_days() -> list[int]:
    """Days before expiry at which owners are reminded, largest first (PLIMSOLL_EXPIRY_REMINDER_DAYS)."""
    return sorted({int(d) for d in getattr(settings, "PLIMSOLL_EXPIRY_REMINDER_DAYS", (30, 7, 1))}, reverse=True)


def request_exception(*, by: Any, request: HttpRequest | None = None, **fields: Any) -> RiskAcceptance:
    """Create a requested exception. Raises NotPermitted, or ValidationError naming the bad fields."""
    if not can_manage(by):
        raise NotPermitted("only a security manager or an admin can request an exception")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        exception = RiskAcceptance(requested_by=by, requested_at=timezone.now(), status=Status.REQUESTED, **fields)
        exception.full_clean(validate_constraints=False)
        exception.save()
        record(AuditAction.CREATE, exception, actor=by, request=request,
               changes=created(field_values(exception, ["status", "requested_by", *EDITABLE_FIELDS])))
    return exception


def change_exception(exception_id: int, *, by: Any, request: HttpRequest | None = None, **fields: Any) -> RiskAcceptance:
    """Change a still-requested exception, by its requester only (four eyes: nobody rewrites a request they approve).

    Raises NotPermitted (no manager role, or not the requester), TransitionNotAllowed (not requested) or ValidationError.
    """
    if not can_manage(by):
        raise NotPermitted("only a security manager or an admin can change an exception")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        exception = RiskAcceptance.objects.select_for_update().get(pk=exception_id)
        if exception.requested_by_id != by.pk:
            raise NotPermitted("only the requester can change their exception")
        current = exception.status_at(timezone.now())
        if current != Status.REQUESTED:
            raise TransitionNotAllowed(current, "change")
        before = field_values(exception, EDITABLE_FIELDS)
        for name, value in fields.items():
            setattr(exception, name, value)
        exception.full_clean(validate_constraints=False)
        changes = diff(before, field_values(exception, EDITABLE_FIELDS))
        if changes:
            exception.save(update_fields=[name for name in EDITABLE_FIELDS if name in changes])
            record(AuditAction.CHANGE, exception, actor=by, request=request, changes=changes)
    return exception


def _decide(exception_id: int, by: Any, verb: str, allowed_from: str) -> tuple[RiskAcceptance, dict[str, Any], datetime.datetime]:
    """Lock the exception and check the role and the state; returns it, its decision fields before, and now."""
    if not can_manage(by):
        raise NotPermitted(f"only a security manager or an admin can {verb} an exception")
    exception = RiskAcceptance.objects.select_for_update().get(pk=exception_id)
    now = timezone.now()
    current = exception.status_at(now)
    if current != allowed_from:
        raise TransitionNotAllowed(current, verb)
    return exception, field_values(exception, DECISION_FIELDS), now


def _save_decision(exception: RiskAcceptance, before: dict[str, Any], action: str, by: Any, request: HttpRequest | None) -> None:
    changes = diff(before, field_values(exception, DECISION_FIELDS))
    exception.save(update_fields=[name for name in DECISION_FIELDS if name in changes])
    record(action, exception, actor=by, request=request, changes=changes)


def approve_exception(exception_id: int, *, by: Any, note: str = "", request: HttpRequest | None = None) -> RiskAcceptance:
    """requested -> approved, by a security manager or admin who is not the requester."""
    with transaction.atomic():
        exception, before, now = _decide(exception_id, by, "approve", Status.REQUESTED)
        if exception.requested_by_id == by.pk:
            raise FourEyesViolation("the requester cannot approve their own exception")
        exception.status, exception.approved_by, exception.approved_at = Status.APPROVED, by, now
        exception.decision_note = note
        _save_decision(exception, before, AuditAction.APPROVE, by, request)
    return exception


def reject_exception(exception_id: int, *, by: Any, note: str = "", request: HttpRequest | None = None) -> RiskAcceptance:
    """requested -> rejected, by a security manager or admin who is not the requester."""
    with transaction.atomic():
        exception, before, now = _decide(exception_id, by, "reject", Status.REQUESTED)
        if exception.requested_by_id == by.pk:
            raise FourEyesViolation("the requester cannot decide on their own exception")
        exception.status, exception.rejected_by, exception.rejected_at = Status.REJECTED, by, now
        exception.decision_note = note
        _save_decision(exception, before, AuditAction.REJECT, by, request)
    return exception


def revoke_exception(exception_id: int, *, by: Any, reason: str = "", request: HttpRequest | None = None) -> RiskAcceptance:
    """approved (and unexpired) -> revoked; the covered results fail again at once."""
    with transaction.atomic():
        exception, before, now = _decide(exception_id, by, "revoke", Status.APPROVED)
        exception.status, exception.revoked_by, exception.revoked_at = Status.REVOKED, by, now
        exception.revocation_reason = reason
        _save_decision(exception, before, AuditAction.REVOKE, by, request)
    return exception


def active_exceptions(at: datetime.datetime) -> list[RiskAcceptance]:
    """Exceptions in force at `at`: approved_at <= at < expires_at, and not revoked by then. One query."""
    in_force = Q(status=Status.APPROVED) | Q(status=Status.REVOKED, revoked_at__gt=at)
    queryset = RiskAcceptance.objects.filter(in_force, approved_at__lte=at, expires_at__gt=at).select_related("scope_host")
    return list(queryset.order_by("control", "id"))


def mark_matched(exception_ids: Iterable[int], at: datetime.datetime) -> int:
    """Record that these exceptions covered a result at `at` (clears the stale flag). One UPDATE; returns rows changed."""
    ids = sorted(set(exception_ids))
    if not ids:
        return 0
    newer = Q(last_matched_at__isnull=True) | Q(last_matched_at__lt=at)
    return RiskAcceptance.objects.filter(newer, pk__in=ids).update(last_matched_at=at, stale_since=None)


def _owners(exception: RiskAcceptance) -> list[str]:
    people = [exception.requested_by, exception.approved_by]
    return sorted({person.email for person in people if person is not None and person.email})


def _reminder_text(exception: RiskAcceptance, days: int, now: datetime.datetime) -> tuple[str, str]:
    subject = f"[Plimsoll] Exception #{exception.pk} for CIS {exception.control} expires in {days} day{'s' if days != 1 else ''}"
    body = (
        f"Exception #{exception.pk} for CIS Docker {exception.control} ({exception.scope_display}) expires at "
        f"{exception.expires_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Risk rating: {exception.get_risk_rating_display()}\nJustification: {exception.justification}\n\n"
        f"When it expires the results it covers fail again. Request a new exception, or fix the finding.\n"
        f"{exception.get_absolute_url()}\n"
    )
    return subject, body


def send_expiry_reminders(now: datetime.datetime | None = None) -> int:
    """Email the owners of approved exceptions that cross a reminder threshold; each threshold is sent once.

    Only the nearest threshold crossed is sent, so an exception approved 5 days before expiry gets the 7-day reminder,
    never a late 30-day one. Returns the number of reminders sent.
    """
    now = now or timezone.now()
    thresholds = reminder_days()
    if not thresholds:
        return 0
    horizon = now + datetime.timedelta(days=thresholds[0])
    candidates = (
        RiskAcceptance.objects.filter(status=Status.APPROVED, expires_at__gt=now, expires_at__lte=horizon)
        .select_related("requested_by", "approved_by")
        .prefetch_related("reminders")
    )
    sent = 0
    for exception in candidates:
        remaining = exception.expires_at - now
        due = min(days for days in thresholds if remaining <= datetime.timedelta(days=days))
        if any(reminder.days_before <= due for reminder in exception.reminders.all()):
            continue
        recipients = _owners(exception)
        try:
            with transaction.atomic():
                ExpiryReminder.objects.create(risk_acceptance=exception, days_before=due, sent_at=now, recipients=recipients)
                if recipients:
                    subject, body = _reminder_text(exception, due, now)
                    send_mail(subject, body, None, recipients)
                record(AuditAction.REMIND, exception, changes={"days_before": [None, due], "recipients": [None, recipients]})
        except IntegrityError:
            continue  # another run recorded this reminder first
        sent += 1
    return sent


def flag_stale_exceptions(now: datetime.datetime | None = None) -> int:
    """Flag approved, unexpired exceptions that have matched nothing for the stale period; returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=stale_after_days())
    unmatched = Q(last_matched_at__isnull=True) | Q(last_matched_at__lte=cutoff)
    stale = RiskAcceptance.objects.filter(
        unmatched, status=Status.APPROVED, approved_at__lte=cutoff, expires_at__gt=now, stale_since__isnull=True
    )
    flagged = 0
    for exception in stale:
        with transaction.atomic():
            RiskAcceptance.objects.filter(pk=exception.pk, stale_since__isnull=True).update(stale_since=now)
            record(AuditAction.FLAG_STALE, exception, changes={"stale_since": [None, now.isoformat()]})
        flagged += 1
    return flagged
