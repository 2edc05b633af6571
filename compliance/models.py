"""Compliance models: evaluation runs of the CIS Docker engine, their results, and the site policy they use."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from common import lookups  # noqa: F401  (registers field__any)
from compliance.choices import ResultStatus, TargetKind
from compliance.engine import BENCHMARK
from compliance.result_ids import ResultIdField
from inventory.choices import EvaluationStatus
from inventory.rowsets import RecordIdsField

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


class PolicyContent(models.Model):
    """The data of a site policy as evaluations applied it, stored once per distinct content (its sha256)."""

    id = models.AutoField(primary_key=True)
    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)
    data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"policy {self.sha256[:12]}"


class ResultSet(models.Model):
    """The results of one evaluation by content: the ordered ids of its ResultGroups (one per target: the host, each
    container, each image). Stored once per distinct content, shared by every evaluation that judged the same."""

    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)
    # bigint[] on PostgreSQL (the result view unnests it and looks each group up by its key), JSON on SQLite.
    group_ids = RecordIdsField(null=True, help_text="ResultGroup ids, in the order the engine judged the targets.")

    def __str__(self) -> str:
        return f"result set {self.sha256[:12]}"


class ResultList(models.Model):
    """An ordered list of judgements (its ResultRows), shared by every target judged the same: containers cloned from
    one template, or a container redeployed unchanged, add a ResultGroup row and no rows of results."""

    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)

    def __str__(self) -> str:
        return f"result list {self.sha256[:12]}"


class ResultGroup(models.Model):
    """One target and its results (a ResultList), shared by every evaluation that judged the same target the same."""

    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices)
    target_name = models.CharField(max_length=512)
    target_id = models.CharField(max_length=128, blank=True)
    target_state = models.CharField(max_length=32, blank=True)
    result_list = models.ForeignKey(ResultList, on_delete=models.PROTECT, related_name="+", db_index=False)

    def __str__(self) -> str:
        return f"{self.target_kind}:{self.target_name}"


class ResultContent(models.Model):
    """One distinct judgement (control, status, evidence, expected, message), shared by every target judged so."""

    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)
    control = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    evidence = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True)
    message = models.TextField()

    def __str__(self) -> str:
        return f"{self.control} {self.status}"


class ResultRow(models.Model):
    """One result of a list: its control and status (what the indexes read) and its content. The key (list,
    control, position) is the index the per-control reads use."""

    pk = models.CompositePrimaryKey("result_list", "control", "position")
    result_list = models.ForeignKey(ResultList, on_delete=models.CASCADE, related_name="rows", db_index=False)
    control = models.CharField(max_length=16)
    position = models.PositiveSmallIntegerField(help_text="Order in the list, as the engine judged.")
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    content = models.ForeignKey(ResultContent, on_delete=models.PROTECT, related_name="+", db_index=False)

    def __str__(self) -> str:
        return f"{self.control} {self.status} in list {self.result_list_id}"


class TallySet(models.Model):
    """The per-control tallies of one evaluation by content (TallyRows), shared by every evaluation that counted the
    same."""

    sha256 = models.CharField(max_length=64)  # unique: common/hash_unique.py (compliance 0017)
    counts = models.JSONField(null=True, blank=True, help_text="Results per status, over every row.")

    def __str__(self) -> str:
        return f"tally set {self.sha256[:12]}"


class TallyRow(models.Model):
    pk = models.CompositePrimaryKey("tally_set", "control", "stopped")
    tally_set = models.ForeignKey(TallySet, on_delete=models.CASCADE, related_name="rows", db_index=False)
    control = models.CharField(max_length=16)
    stopped = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField()
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    info = models.PositiveIntegerField(default=0)
    manual = models.PositiveIntegerField(default=0)
    not_applicable = models.PositiveIntegerField(default=0)
    error = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.control} in tally set {self.tally_set_id}"


class Evaluation(models.Model):
    """One run of the engine over one snapshot. running -> done | failed (the snapshot's evaluation status moves with
    it, through compliance.services.set_evaluation_status); the newest done run of a snapshot is current.

    Its results, tallies and policy are stored by content (result_set, tally_set, policy_content) and read through
    Result, ControlTally and the `policy` and `counts` properties."""

    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.CASCADE, related_name="evaluations")
    host = models.ForeignKey("inventory.Host", on_delete=models.CASCADE, related_name="+", db_index=False)
    benchmark = models.CharField(max_length=64, default=BENCHMARK)
    engine_version = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.RUNNING)
    error = models.TextField(blank=True)
    is_current = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    result_set = models.ForeignKey(ResultSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   db_index=False)
    tally_set = models.ForeignKey(TallySet, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  db_index=False)
    policy_content = models.ForeignKey(PolicyContent, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", db_index=False,
                                       help_text="The policy as it was when the run was made (none: an empty policy).")

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

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.host_id is None and self.snapshot_id is not None:
            from inventory.models import Snapshot

            self.host_id = Snapshot.objects.filter(pk=self.snapshot_id).values_list("host_id", flat=True).first()
        super().save(*args, **kwargs)

    @property
    def policy(self) -> dict[str, Any]:
        """The policy data the run applied (stored once by content)."""
        return dict(self.policy_content.data) if self.policy_content_id else {}

    @property
    def counts(self) -> dict[str, int]:
        """Results per status: the sums of the run's tallies (kept on its TallySet); empty for a run without results."""
        return dict(self.tally_set.counts or {}) if self.tally_set_id else {}


class Result(models.Model):
    """The judgement of one CIS recommendation on one target of one snapshot, with the evidence that decided it.

    Read-only: a database view over the evaluation, its ResultSet, ResultGroups, ResultRows and ResultContents
    (docs/storage.md). `is_current` is the evaluation's; the id is stable (compliance.result_ids)."""

    id = ResultIdField(primary_key=True)
    evaluation = models.ForeignKey(Evaluation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="results")
    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="results")
    host = models.ForeignKey("inventory.Host", on_delete=models.DO_NOTHING, db_constraint=False, related_name="results")
    is_current = models.BooleanField(default=True, help_text="Belongs to the snapshot's current evaluation.")
    control = models.CharField(max_length=16, help_text="CIS Docker recommendation id, e.g. 5.5.")
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices)
    target_name = models.CharField(max_length=512)
    target_id = models.CharField(max_length=128, blank=True)
    target_state = models.CharField(max_length=32, blank=True, help_text="A container's state when collected.")
    status = models.CharField(max_length=16, choices=ResultStatus.choices)
    evidence = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True)
    message = models.TextField()

    class Meta:
        managed = False
        ordering = ["snapshot_id", "id"]

    def __str__(self) -> str:
        return f"{self.control} {self.target_kind}:{self.target_name} {self.status}"

    @property
    def is_stopped(self) -> bool:
        return is_stopped(self.target_kind, self.target_state)


class ControlTally(models.Model):
    """Results of one evaluation counted per CIS control and status, for posture over thousands of hosts.

    `stopped` rows count the targets that are stopped containers; the others count hosts, images and running
    containers. Read-only: a database view over the evaluation and its TallySet's rows; `is_current` is the
    evaluation's.
    """

    evaluation = models.ForeignKey(Evaluation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="tallies")
    snapshot = models.ForeignKey("inventory.Snapshot", on_delete=models.DO_NOTHING, db_constraint=False,
                                 related_name="+")
    host = models.ForeignKey("inventory.Host", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
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
        managed = False

    def __str__(self) -> str:
        return f"{self.control} on evaluation {self.evaluation_id}"


class ResultAlias(models.Model):
    """The id a result had before results were stored by content (reports name results by id) -> its id now."""

    old_id = models.BigIntegerField(primary_key=True)
    new_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"result {self.old_id} -> {self.new_id}"
