"""Choices of the imports app."""

from django.db import models


class ImportKind(models.TextChoices):
    TRIVY = "trivy", "Trivy image scan"
    COSIGN = "cosign", "Cosign verification"


class ScanVerdict(models.TextChoices):
    """What one scan says of its image under the site policy (compliance/imports/services.py)."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    STALE = "stale", "Too old"
    NO_POLICY = "no_policy", "No policy"
