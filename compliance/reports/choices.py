"""Kinds and statuses of reports."""

from django.db import models

# Printed on every report and in its manifest: the version of the code that laid it out.
GENERATOR_VERSION = "plimsoll-reports 1.0.0"


class ReportKind(models.TextChoices):
    FRAMEWORK = "framework", "Framework assessment"
    HARDENING = "hardening", "Host hardening (CIS Docker)"
    EXCEPTIONS = "exceptions", "Exceptions register"
    EVIDENCE = "evidence", "Evidence register"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
