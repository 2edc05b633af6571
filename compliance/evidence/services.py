"""Evidence services: upload (checked, hashed, stored through Django's storage), change, validity, reminders.

The posture code reads `valid_evidence(at)`: each row's `controls`, `requirement_ids` and `covers_host(host)`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import created, diff, field_values, record, record_reminder
from common.reminders import Notice, days_text, send_reminders
from common.roles import can_manage, can_read
from compliance.evidence.choices import EvidenceKind
from compliance.evidence.filetypes import check_upload
from compliance.evidence.models import Evidence
from frameworks.models import Requirement

EDITABLE_FIELDS = ["title", "description", "url", "scope_selector", "scope_host", "collected_at", "valid_until", "requirements"]
RECORDED_FIELDS = [
    "kind", "title", "description", "file", "original_name", "content_type", "size_bytes", "sha256", "url",
    "scope_selector", "scope_host", "collected_at", "valid_until", "uploaded_by", "requirements",
]


def upload_evidence(
    *,
    by: Any,
    kind: str,
    title: str,
    collected_at: datetime.datetime,
    valid_until: datetime.datetime,
    requirements: Iterable[Requirement],
    file: UploadedFile | None = None,
    url: str = "",
    description: str = "",
    scope_selector: str = "",
    scope_host: Any = None,
    request: HttpRequest | None = None,
) -> Evidence:
    """Store a file, link or note as evidence. Raises PermissionDenied, UploadRejected or ValidationError."""
    if not can_manage(by):
        raise PermissionDenied("only a security manager or an admin can add evidence")
    evidence = Evidence(
        kind=kind, title=title, description=description, url=url, scope_selector=scope_selector, scope_host=scope_host,
        collected_at=collected_at, valid_until=valid_until, uploaded_by=by, uploaded_at=timezone.now(),
    )
    requirements = list(requirements)
    if kind == EvidenceKind.FILE and file is not None:
        checked = check_upload(file, file.name or "", file.size)
        evidence.file = file
        evidence.original_name = (file.name or "")[-255:]
        evidence.content_type, evidence.size_bytes, evidence.sha256 = checked.content_type, checked.size, checked.sha256
    elif file is not None:
        evidence.file = file  # clean() names the field: only file evidence has a file
    errors: dict[str, list[str]] = {}
    try:
        evidence.full_clean(exclude=["requirements"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not requirements:
        errors["requirements"] = ["Attach the evidence to at least one recommendation or requirement."]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            evidence.save()
            evidence.requirements.set(requirements)
            record(AuditAction.UPLOAD, evidence, actor=by, request=request,
                   changes=created(field_values(evidence, RECORDED_FIELDS)))
    except Exception:
        # Storage wrote the file before the rows were inserted; do not leave it behind without them.
        stored = evidence.file.name if evidence.file else ""
        if stored and stored.startswith("evidence/"):
            evidence.file.storage.delete(stored)
        raise
    return evidence


def change_evidence(evidence_id: int, *, by: Any, request: HttpRequest | None = None, **fields: Any) -> Evidence:
    """Change the description, scope, validity or attachments (never the file); the change is audited."""
    if not can_manage(by):
        raise PermissionDenied("only a security manager or an admin can change evidence")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        evidence = Evidence.objects.select_for_update().get(pk=evidence_id)
        before = field_values(evidence, EDITABLE_FIELDS)
        requirements = fields.pop("requirements", None)
        for name, value in fields.items():
            setattr(evidence, name, value)
        evidence.full_clean(exclude=["requirements"], validate_constraints=False)
        evidence.save(update_fields=[name for name in fields] or None)
        if requirements is not None:
            evidence.requirements.set(requirements)
        changes = diff(before, field_values(evidence, EDITABLE_FIELDS))
        if changes:
            record(AuditAction.CHANGE, evidence, actor=by, request=request, changes=changes)
    return evidence


def record_download(evidence: Evidence, *, by: Any, request: HttpRequest | None = None) -> None:
    if not can_read(by):
        raise PermissionDenied("your role does not allow downloading evidence")
    record(AuditAction.DOWNLOAD, evidence, actor=by, request=request)


def valid_evidence(at: datetime.datetime) -> list[Evidence]:
    """Evidence that counts at `at`: uploaded by then, and collected_at <= at < valid_until.

    Requiring `uploaded_at <= at` keeps an as-of posture what it was: evidence uploaded today with an old collection
    date counts from today on, never for a past `at`. Its requirements and their frameworks are prefetched: three
    queries whatever the number of rows.
    """
    attached = Prefetch("requirements", queryset=Requirement.objects.select_related("framework").order_by("id"))
    queryset = Evidence.objects.filter(
        uploaded_at__lte=at, collected_at__lte=at, valid_until__gt=at
    ).select_related("scope_host")
    return list(queryset.prefetch_related(attached).order_by("id"))


def _reminder_notice(evidence: Evidence, days: int) -> Notice:
    recipients = [evidence.uploaded_by.email] if evidence.uploaded_by.email else []
    subject = f"[Plimsoll] Evidence \"{evidence.title}\" stops counting in {days_text(days)}"
    body = (
        f"The evidence \"{evidence.title}\" ({evidence.scope_display}) is valid until "
        f"{evidence.valid_until:%Y-%m-%d %H:%M} UTC. After that the results it attests are manual again.\n"
        f"Upload fresh evidence before then.\n{evidence.get_absolute_url()}\n"
    )
    return Notice(recipients, subject, body)


def send_evidence_expiry_reminders(now: datetime.datetime | None = None) -> int:
    """Email uploaders of evidence that counts now and stops counting soon; returns the number of reminders sent."""
    now = now or timezone.now()
    counting = Evidence.objects.filter(collected_at__lte=now).select_related("uploaded_by", "scope_host")
    return send_reminders(counting, deadline="valid_until", now=now, notice=_reminder_notice, on_sent=record_reminder)
