"""Reports: one requested document (a framework assessment, a hardening report or a register), rendered once, kept
unchanged as evidence of what was handed to an auditor."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compliance.reports.choices import GENERATOR_VERSION, ReportKind, ReportStatus


class ReportIsImmutable(Exception):
    """Raised when code tries to change or delete a finished report (retention goes through `prune_expired`)."""


class ReportQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        # Progress updates go through here; a finished report is never touched, whatever the filter said.
        return super(ReportQuerySet, self.exclude(status=ReportStatus.DONE)).update(**kwargs)

    def get_absolute_url(self) -> str:
        return reverse("reports:report-detail", args=[self.pk])

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ReportIsImmutable("reports are deleted only by retention (PLIMSOLL_REPORT_RETENTION_DAYS)")

    def prune_expired(self) -> tuple[int, dict[str, int]]:
        """Delete these rows for retention; the caller removes their files."""
        return models.QuerySet.delete(self)


def report_upload_to(instance: Report, filename: str) -> str:
    # One name per report: a retried render replaces its own temporary output, never another report's file.
    return f"reports/{timezone.now():%Y/%m}/report-{instance.pk}.pdf"


class Report(models.Model):
    """A report requested by a security manager and rendered by a worker.

    queued -> running -> done | failed (running again on a retry); once done, nothing about it changes.
    """

    Kind = ReportKind
    Status = ReportStatus

    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    framework_slug = models.SlugField(max_length=100, blank=True)
    framework_urn = models.CharField(max_length=200, blank=True)
    framework_revision = models.PositiveIntegerField(null=True, blank=True, help_text="Catalog revision used.")
    scope = models.CharField(max_length=500, blank=True, help_text="Label selector; empty: every host.")
    host = models.ForeignKey("inventory.Host", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    include_stopped = models.BooleanField(null=True, blank=True, help_text="Count stopped containers (null: setting).")
    as_of = models.DateTimeField(null=True, blank=True, help_text="The moment assessed (the period's end for a period).")
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    file = models.FileField(upload_to=report_upload_to, blank=True, max_length=255)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True, help_text="sha256 of the signed PDF.")
    manifest_sha256 = models.CharField(max_length=64, blank=True, help_text="sha256 of the embedded manifest.json.")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    generator_version = models.CharField(max_length=64, default=GENERATOR_VERSION)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.DONE) | (~Q(file="") & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="report_done_has_file_and_sha256",
                violation_error_message="A finished report has its file and its sha256.",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_end__gt=models.F("period_start")),
                name="report_period_ends_after_start",
                violation_error_message="A period ends after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="report_progress_percent",
                violation_error_message="Progress is a percentage.",
            ),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk} ({self.get_kind_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Read the stored row, not this instance: it may be stale, or changed in memory to pretend otherwise.
        if not self._state.adding and Report.objects.filter(pk=self.pk, status=ReportStatus.DONE).exists():
            raise ReportIsImmutable("a finished report is evidence; it cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ReportIsImmutable("reports are deleted only by retention (PLIMSOLL_REPORT_RETENTION_DAYS)")

    @property
    def is_done(self) -> bool:
        return self.status == ReportStatus.DONE

    @property
    def download_name(self) -> str:
        """A file name that says what the report is: plimsoll-pci-dss-4.0-pci_cde-2026-11-30-report-12.pdf."""
        parts = ["plimsoll", self.kind if self.kind != ReportKind.FRAMEWORK else self.framework_slug]
        if self.kind == ReportKind.HARDENING:
            parts.append(f"host-{self.host.hostname}" if self.host_id else "")
        if self.scope:
            parts.append(self.scope)
        moment = self.period_end or self.as_of
        if self.period_start:
            parts.append(f"{self.period_start:%Y-%m-%d}-to")
        if moment:
            parts.append(f"{moment:%Y-%m-%d}")
        parts.append(f"report-{self.pk}")
        text = "-".join(p for p in parts if p)
        return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)[:180] + ".pdf"

    @property
    def parameters(self) -> dict[str, Any]:
        """What was asked, as the manifest and the API show it."""
        return {
            "kind": self.kind,
            "framework": self.framework_slug or None,
            "scope": self.scope,
            "host": self.host.hostname if self.host_id else None,
            "include_stopped": self.include_stopped,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
        }
