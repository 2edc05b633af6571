"""Exception (risk acceptance) services: request, change, approve, reject, revoke; reminders, staleness, matching.

The posture code reads `active_exceptions(at)` and calls `mark_matched(ids, at)` for those that covered a result.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import created, diff, field_values, record, record_reminder
from common.reminders import Notice, days_text, send_reminders
from common.roles import can_manage
from compliance.exceptions.choices import RiskAcceptanceStatus
from compliance.exceptions.models import (
    FourEyesViolation,
    NotPermitted,
    RevisionMismatch,
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
DECISION_TEXTS = ["decision_note", "revocation_reason"]


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
            # Whatever a reviewer saw before this change is no longer what would be approved.
            exception.revision += 1
            changes["revision"] = [exception.revision - 1, exception.revision]
            exception.save(update_fields=[name for name in EDITABLE_FIELDS if name in changes] + ["revision"])
            record(AuditAction.CHANGE, exception, actor=by, request=request, changes=changes)
    return exception


@contextmanager
def _decision(
    exception_id: int, by: Any, action: AuditAction, allowed_from: str, request: HttpRequest | None, *,
    four_eyes: bool = False, revision: int | None = None,
) -> Iterator[tuple[RiskAcceptance, datetime.datetime]]:
    """The one path of every decision: check the role, lock the exception, check its state and, with `four_eyes`, that
    `by` is not its requester; yield it and now for the caller to set the decision fields; then validate, save and
    audit what changed.

    A four-eyes refusal is audited as a denial, committed before FourEyesViolation is raised.
    """
    verb = action.value
    if not can_manage(by):
        raise NotPermitted(f"only a security manager or an admin can {verb} an exception")
    refusal = None
    with transaction.atomic():
        exception = RiskAcceptance.objects.select_for_update().get(pk=exception_id)
        now = timezone.now()
        current = exception.status_at(now)
        if current != allowed_from:
            raise TransitionNotAllowed(current, verb)
        if revision is not None and revision != exception.revision:
            raise RevisionMismatch(exception.revision, revision)
        if four_eyes and exception.requested_by_id == by.pk:
            refusal = FourEyesViolation(f"the requester cannot {verb} their own exception")
            record(AuditAction.DENY, exception, actor=by, request=request,
                   changes={"action": [None, verb], "reason": [None, str(refusal)]})
        else:
            before = field_values(exception, DECISION_FIELDS)
            yield exception, now
            # Only the texts the decider typed are checked: the request itself was validated when it was made.
            exception.clean_fields(exclude=[f.name for f in RiskAcceptance._meta.fields if f.name not in DECISION_TEXTS])
            changes = diff(before, field_values(exception, DECISION_FIELDS))
            exception.save(update_fields=[name for name in DECISION_FIELDS if name in changes])
            record(action, exception, actor=by, request=request, changes=changes)
    if refusal is not None:
        raise refusal


def approve_exception(
    exception_id: int, *, by: Any, note: str = "", request: HttpRequest | None = None, revision: int | None = None
) -> RiskAcceptance:
    """requested -> approved, by a security manager or admin who is not the requester. With `revision`, only if the
    request is still at the revision the approver reviewed (RevisionMismatch otherwise)."""
    with _decision(exception_id, by, AuditAction.APPROVE, Status.REQUESTED, request, four_eyes=True,
                   revision=revision) as (exception, now):
        exception.status, exception.approved_by, exception.approved_at = Status.APPROVED, by, now
        exception.decision_note = note
    return exception


def reject_exception(exception_id: int, *, by: Any, note: str = "", request: HttpRequest | None = None) -> RiskAcceptance:
    """requested -> rejected, by a security manager or admin who is not the requester."""
    with _decision(exception_id, by, AuditAction.REJECT, Status.REQUESTED, request, four_eyes=True) as (exception, now):
        exception.status, exception.rejected_by, exception.rejected_at = Status.REJECTED, by, now
        exception.decision_note = note
    return exception


def revoke_exception(exception_id: int, *, by: Any, reason: str = "", request: HttpRequest | None = None) -> RiskAcceptance:
    """approved (and unexpired) -> revoked, by any security manager or admin; the covered results fail again at once."""
    with _decision(exception_id, by, AuditAction.REVOKE, Status.APPROVED, request) as (exception, now):
        exception.status, exception.revoked_by, exception.revoked_at = Status.REVOKED, by, now
        exception.revocation_reason = reason
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


def _reminder_notice(exception: RiskAcceptance, days: int) -> Notice:
    people = [exception.requested_by, exception.approved_by]
    recipients = sorted({person.email for person in people if person is not None and person.email})
    subject = f"[Plimsoll] Exception #{exception.pk} for CIS {exception.control} expires in {days_text(days)}"
    body = (
        f"Exception #{exception.pk} for CIS Docker {exception.control} ({exception.scope_display}) expires at "
        f"{exception.expires_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Risk rating: {exception.get_risk_rating_display()}\nJustification: {exception.justification}\n\n"
        f"When it expires the results it covers fail again. Request a new exception, or fix the finding.\n"
        f"{exception.get_absolute_url()}\n"
    )
    return Notice(recipients, subject, body)


def send_expiry_reminders(now: datetime.datetime | None = None) -> int:
    """Email the owners (requester and approver) of approved exceptions nearing expiry; returns the number sent."""
    approved = RiskAcceptance.objects.filter(status=Status.APPROVED).select_related("requested_by", "approved_by", "scope_host")
    return send_reminders(
        approved, deadline="expires_at", now=now or timezone.now(), notice=_reminder_notice, on_sent=record_reminder
    )


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
