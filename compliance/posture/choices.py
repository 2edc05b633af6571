"""Requirement statuses of a framework posture."""

from django.db import models


class RequirementStatus(models.TextChoices):
    FAILING = "failing", "Failing"
    NEEDS_EVIDENCE = "needs_evidence", "Needs evidence"
    PASSING = "passing", "Passing"
    NOT_COVERED = "not_covered", "Not covered"


# Worst first: a parent node shows the worst status of its own checks and its children.
SEVERITY = [RequirementStatus.FAILING, RequirementStatus.NEEDS_EVIDENCE, RequirementStatus.PASSING, RequirementStatus.NOT_COVERED]
