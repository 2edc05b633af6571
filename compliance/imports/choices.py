"""Choices of the imports app."""

from django.db import models


class ImportKind(models.TextChoices):
    TRIVY = "trivy", "Trivy image scan"
    COSIGN = "cosign", "Cosign verification"
    DOCKER_BENCH = "docker-bench", "docker-bench-security log"


class ScanVerdict(models.TextChoices):
    """What one scan says of its image under the site policy (compliance/imports/services.py)."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    STALE = "stale", "Too old"
    NO_POLICY = "no_policy", "No policy"


class BenchResult(models.TextChoices):
    """A docker-bench-security check result, as its JSON log writes it."""

    PASS = "PASS", "Pass"
    WARN = "WARN", "Warn"
    INFO = "INFO", "Info"
    NOTE = "NOTE", "Note"
