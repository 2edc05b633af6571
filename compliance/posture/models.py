"""Posture models: named assessments (a framework over a scope of hosts) and the daily record of their summaries."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from common.scope import SelectorError, parse_selector


class Assessment(models.Model):
    """A framework assessed over the hosts a label selector names, e.g. PCI DSS v4.0 over `pci=cde`."""

    name = models.CharField(max_length=200, unique=True)
    framework_slug = models.SlugField(max_length=100, help_text="e.g. pci-dss-4.0")
    selector = models.CharField(max_length=500, blank=True, help_text="Label selector; empty: every host.")
    include_stopped = models.BooleanField(default=False, help_text="Count stopped containers toward the posture.")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["framework_slug", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework_slug", "selector"],
                name="assessment_unique_framework_scope",
                violation_error_message="This framework is already assessed over that scope.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            parse_selector(self.selector)
        except SelectorError as exc:
            raise ValidationError({"selector": str(exc)}) from None


class PostureRecord(models.Model):
    """The summary of one framework's posture over one scope on one day, recorded by the daily beat task."""

    framework_slug = models.SlugField(max_length=100)
    selector = models.CharField(max_length=500, blank=True)
    day = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    hosts = models.PositiveIntegerField()
    summary = models.JSONField()

    class Meta:
        ordering = ["framework_slug", "selector", "-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework_slug", "selector", "day"],
                name="posture_record_one_per_day",
                violation_error_message="The posture of this framework and scope is already recorded for that day.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.framework_slug} [{self.selector or 'all'}] {self.day}"
