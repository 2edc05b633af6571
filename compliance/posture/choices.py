"""Requirement statuses of a framework posture."""

from django.db import models


class RequirementStatus(models.TextChoices):
    FAILING = "failing", "Failing"
    NEEDS_EVIDENCE = "needs_evidence", "Needs evidence"
    PASSING = "passing", "Passing"
    NOT_COVERED = "not_covered", "Not covered"


# Worst first: a parent node shows the worst status of its own checks and its children.
SEVERITY = [RequirementStatus.FAILING, RequirementStatus.NEEDS_EVIDENCE, RequirementStatus.PASSING, RequirementStatus.NOT_COVERED]


class PostureStatus(models.TextChoices):
    """A result's status in a posture: the engine's status, with exceptions and evidence applied (see judge.py)."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    EXCEPTED = "excepted", "Excepted"
    ATTESTED = "attested", "Attested"
    MANUAL = "manual", "Manual"
    ERROR = "error", "Error"
    INFO = "info", "Info"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
