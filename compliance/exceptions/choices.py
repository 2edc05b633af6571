"""Statuses and scopes of risk acceptances."""

from django.db import models


class RiskAcceptanceStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVOKED = "revoked", "Revoked"
    # Never stored: an approved (or still requested) exception is expired from the moment its expiry passes.
    EXPIRED = "expired", "Expired"


class ScopeKind(models.TextChoices):
    ALL = "all", "All hosts"
    SELECTOR = "selector", "Label selector"
    HOST = "host", "One host"
    CONTAINER = "container", "Container name pattern"
    IMAGE = "image", "Image"


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"
