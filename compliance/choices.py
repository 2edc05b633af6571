"""Statuses of the compliance domain."""

from django.db import models


class ResultStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INFO = "info", "Info"
    MANUAL = "manual", "Manual"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    ERROR = "error", "Error"


class TargetKind(models.TextChoices):
    HOST = "host", "Host"
    CONTAINER = "container", "Container"
    IMAGE = "image", "Image"
