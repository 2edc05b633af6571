"""Compliance models: evaluation runs of the CIS Docker engine, their results, and the site policy they use."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from common import lookups  # noqa: F401  (registers field__any)
from compliance.choices import ResultStatus, TargetKind
from compliance.engine import BENCHMARK
from inventory.choices import EvaluationStatus

# The stopped-container rule, once: a container result counts as stopped unless the container was running.
STOPPED = models.Q(target_kind=TargetKind.CONTAINER) & ~models.Q(target_state="running")


def is_stopped(target_kind: str, target_state: str | None) -> bool:
    """The same rule as STOPPED, for a result already in memory."""
    return target_kind == TargetKind.CONTAINER and (target_state or "") != "running"


class SitePolicy(models.Model):
    """A site policy the engine uses to decide policy-driven checks; the one marked active is the one that applies.

    Exactly one row may be active (a named constraint); the others are kept, visibly inactive, and never used.
    """

    name = models.CharField(max_length=64, unique=True, default="default")
    is_active = models.BooleanField(
        default=True, help_text="The active policy is the one every evaluation uses; at most one policy is active."
    )
    data = models.JSONField(default=dict, blank=True, help_text="Policy fields; unset fields keep those checks manual.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "site policies"
        ordering = ["-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="sitepolicy_one_active",
                violation_error_message="Only one site policy can be active.",
            ),
        ]

    def __str__(self) -> str:
        return self.name if self.is_active else f"{self.name} (inactive)"

    @classmethod
    def active(cls) -> SitePolicy | None:
        return cls.objects.filter(is_active=True).first()

    @classmethod
    def current_data(cls) -> dict[str, Any]:
        """The data of the active policy; no active policy means every policy-driven check stays manual."""
        row = cls.objects.filter(is_active=True).only("data").first()
        return dict(row.data) if row else {}


class Evaluation(models.Model):
    """One run of the engine over one snapshot. running -> done | failed (the snapshot's evaluation status moves with
    it, through compliance.services.set_evaluation_status); the newest done run of a snapshot is current."""

    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.CASCADE, related_name="evaluations")
    benchmark = models.CharField(max_length=64, default=BENCHMARK)
    engine_version = models.CharField(max_length=32)
    policy = models.JSONField(default=dict, blank=True, help_text="The policy as it was when the run was made.")
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.RUNNING)
    error = models.TextField(blank=True)
    is_current = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Results per status.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot"],
                condition=models.Q(is_current=True),
                name="evaluation_one_current_per_snapshot",
                violation_error_message="A snapshot has one current evaluation.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.benchmark} {self.engine_version} on snapshot {self.snapshot_id}"


class Result(models.Model):
    """The judgement of one CIS recommendation on one target of one snapshot, with the evidence that decided it."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="results")
    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.CASCADE, related_name="results")
    host = models.ForeignKey("inventory.Host", on_delete=models.CASCADE, related_name="results")
    is_current = models.BooleanField(default=True, help_text="Belongs to the snapshot's current evaluation.")
    control = models.CharField(max_length=16, db_index=True, help_text="CIS Docker recommendation id, e.g. 5.5.")
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices)
    target_name = models.CharField(max_length=512)
    target_id = models.CharField(max_length=128, blank=True)
    target_state = models.CharField(max_length=32, blank=True, help_text="A container's state when collected.")
    status = models.CharField(max_length=16, choices=ResultStatus.choices, db_index=True)
    evidence = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["snapshot_id", "id"]
        indexes = [
            models.Index(fields=["snapshot", "control"], name="result_snapshot_control"),
            models.Index(fields=["host", "status"], name="result_host_status"),
        ]

    def __str__(self) -> str:
        return f"{self.control} {self.target_kind}:{self.target_name} {self.status}"

    @property
    def is_stopped(self) -> bool:
        return is_stopped(self.target_kind, self.target_state)


class ControlTally(models.Model):
    """Results of one evaluation counted per CIS control and status, for posture over thousands of hosts.

    `stopped` rows count the targets that are stopped containers; the others count hosts, images and running
    containers. Written with the results, in the same transaction; only `is_current` changes, when a newer run
    of the same snapshot supersedes it.
    """

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="tallies")
    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.CASCADE, related_name="+")
    host = models.ForeignKey("inventory.Host", on_delete=models.CASCADE, related_name="+")
    is_current = models.BooleanField(default=True, help_text="Belongs to the snapshot's current evaluation.")
    control = models.CharField(max_length=16)
    stopped = models.BooleanField(default=False)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    info = models.PositiveIntegerField(default=0)
    manual = models.PositiveIntegerField(default=0)
    not_applicable = models.PositiveIntegerField(default=0)
    error = models.PositiveIntegerField(default=0)

    STATUS_FIELDS = {
        ResultStatus.PASS: "passed",
        ResultStatus.FAIL: "failed",
        ResultStatus.INFO: "info",
        ResultStatus.MANUAL: "manual",
        ResultStatus.NOT_APPLICABLE: "not_applicable",
        ResultStatus.ERROR: "error",
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "control", "stopped"],
                name="tally_unique_per_evaluation_control",
                violation_error_message="An evaluation counts each control once per target group.",
            )
        ]
        indexes = [
            models.Index(fields=["evaluation", "control"], name="tally_evaluation_control"),
            # One control across the estate's standing snapshots (the recommendation page, host counts).
            models.Index(fields=["snapshot", "control"], name="tally_snapshot_control"),
        ]

    def __str__(self) -> str:
        return f"{self.control} on evaluation {self.evaluation_id}"
