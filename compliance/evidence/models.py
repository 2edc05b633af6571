"""Manual evidence: a file, a link or a note that attests CIS recommendations or framework requirements for a scope.

Automatic evidence is the snapshots and results themselves; nothing here duplicates them.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from common.reminders import Reminder
from common.scope import Selector, SelectorError, parse_selector
from compliance.engine import BENCHMARK
from compliance.evidence.choices import EvidenceKind

# A note is its description: room for a thorough note, not for a pasted log (attach that as a file).
DESCRIPTION_MAX_LENGTH = 10_000


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # The stored name is ours, never the uploader's: no path tricks, no collisions, the checked extension only.
    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class Evidence(models.Model):
    """A file, link or note attesting requirements for a scope (a label selector, empty = all hosts, or one host).

    It counts from `collected_at` until `valid_until`; after that it stops counting, and its uploader is reminded before.
    """

    Kind = EvidenceKind

    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(
        blank=True, max_length=DESCRIPTION_MAX_LENGTH, validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)],
        help_text="For a note, the note itself.",
    )
    file = models.FileField(upload_to=evidence_upload_to, blank=True, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=128, blank=True, help_text="Detected from the content, not the name.")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    requirements = models.ManyToManyField("frameworks.Requirement", related_name="evidence")
    scope_selector = models.CharField(max_length=500, blank=True, help_text="Label selector; empty selects every host.")
    scope_host = models.ForeignKey("inventory.Host", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence")
    collected_at = models.DateTimeField(help_text="When the evidence was collected, not when it was uploaded.")
    valid_until = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name_plural = "evidence"
        indexes = [models.Index(fields=["collected_at", "valid_until"], name="evidence_validity")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("collected_at")),
                name="evidence_valid_after_collected",
                violation_error_message="The validity must end after the evidence was collected.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EvidenceKind.FILE) | (~Q(file="") & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="evidence_file_has_sha256",
                violation_error_message="File evidence has a stored file and its sha256.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EvidenceKind.LINK) | ~Q(url=""),
                name="evidence_link_has_url",
                violation_error_message="Link evidence has a URL.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EvidenceKind.NOTE) | ~Q(description=""),
                name="evidence_note_has_text",
                violation_error_message="A note has text.",
            ),
            models.CheckConstraint(
                condition=Q(scope_host__isnull=True) | Q(scope_selector=""),
                name="evidence_one_scope",
                violation_error_message="Evidence is scoped to a label selector or to one host, not both.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_kind_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("evidence:evidence-detail", args=[self.pk])

    def is_valid_at(self, at: datetime.datetime) -> bool:
        """As services.valid_evidence: uploaded by `at`, and collected_at <= at < valid_until."""
        return self.uploaded_at <= at and self.collected_at <= at < self.valid_until

    @property
    def is_valid(self) -> bool:
        return self.is_valid_at(timezone.now())

    @property
    def validity_label(self) -> str:
        now = timezone.now()
        if now < self.collected_at:
            return "not yet valid"
        return "valid" if now < self.valid_until else "expired"

    @cached_property
    def selector(self) -> Selector:
        return parse_selector(self.scope_selector)

    @property
    def scope_display(self) -> str:
        if self.scope_host_id:
            return f"host {self.scope_host}"
        return f"hosts with {self.scope_selector}" if self.scope_selector else "all hosts"

    def covers_host(self, host: Any) -> bool:
        if self.scope_host_id is not None:
            return host is not None and host.id == self.scope_host_id
        return self.selector.matches(getattr(host, "labels", None))

    @property
    def requirement_ids(self) -> set[int]:
        """Ids of the requirements (any framework) it is attached to; uses the prefetched rows."""
        return {requirement.pk for requirement in self.requirements.all()}

    @property
    def controls(self) -> set[str]:
        """The CIS Docker recommendations (ref_ids) it is attached to directly; uses the prefetched rows."""
        return {r.ref_id for r in self.requirements.all() if r.framework.slug == BENCHMARK}

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            parse_selector(self.scope_selector)
        except SelectorError as exc:
            errors["scope_selector"] = str(exc)
        if self.scope_selector and self.scope_host_id is not None:
            errors["scope_host"] = "Give a label selector or a host, not both."
        if self.collected_at and self.valid_until and self.valid_until <= self.collected_at:
            errors["valid_until"] = "The validity must end after the evidence was collected."
        if self.collected_at and self.collected_at > timezone.now() + datetime.timedelta(minutes=5):
            errors["collected_at"] = "Evidence cannot have been collected in the future."
        if self.kind == EvidenceKind.LINK and not self.url:
            errors["url"] = "Link evidence needs a URL."
        if self.kind != EvidenceKind.LINK and self.url:
            errors["url"] = "Only link evidence has a URL."
        if self.kind == EvidenceKind.NOTE and not self.description.strip():
            errors["description"] = "A note needs its text."
        if self.kind == EvidenceKind.FILE and not self.file:
            errors["file"] = "File evidence needs a file."
        if self.kind != EvidenceKind.FILE and self.file:
            errors["file"] = "Only file evidence has a file."
        if errors:
            raise ValidationError(errors)


class EvidenceReminder(Reminder):
    """A reminder sent to the uploader N days before the evidence stops counting; recorded so each is sent once."""

    subject = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="reminders")

    def __str__(self) -> str:
        return f"{self.days_before}-day reminder for evidence #{self.subject_id}"
