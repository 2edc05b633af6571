"""Risk acceptances (exceptions): a person's decision that a CIS recommendation may fail, for a scope, until a date."""

from __future__ import annotations

import datetime
import re
from fnmatch import fnmatchcase
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from common.reminders import Reminder
from common.scope import Selector, SelectorError, parse_selector
from compliance.engine import BENCHMARK
from compliance.exceptions.choices import RiskAcceptanceStatus, RiskRating, ScopeKind

CONTROL_PATTERN = re.compile(r"^\d+(\.\d+){1,3}$")
_HEX_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
# Free text is read by people and mailed in reminders: room for a thorough case, not for a pasted log.
TEXT_MAX_LENGTH = 10_000
_DEFAULT_REGISTRY_PREFIXES = ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/", "localhost/")


def max_expiry_days() -> int:
    return int(getattr(settings, "PLIMSOLL_EXCEPTION_MAX_DAYS", 365))


def stale_after_days() -> int:
    return int(getattr(settings, "PLIMSOLL_EXCEPTION_STALE_DAYS", 90))


def normalize_image_reference(reference: str) -> str:
    """docker.io/library/nginx, nginx and localhost/nginx:latest all name nginx:latest."""
    ref = reference.strip().lower()
    for prefix in _DEFAULT_REGISTRY_PREFIXES:
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if ref.startswith("library/"):
        ref = ref[len("library/"):]
    last = ref.rsplit("/", 1)[-1]
    if "@" not in ref and ":" not in last:
        ref += ":latest"
    return ref


def image_matches(wanted: str, reference: str, image_id: str) -> bool:
    """True when `wanted` (an image reference or an id, full or a 12+ hex prefix) names this image."""
    wanted = wanted.strip().lower()
    if _HEX_ID.match(wanted):
        bare = wanted.removeprefix("sha256:")
        return bool(image_id) and image_id.lower().removeprefix("sha256:").startswith(bare)
    return bool(reference) and normalize_image_reference(reference) == normalize_image_reference(wanted)


class TransitionNotAllowed(Exception):
    """A state change the state machine does not allow (approving a rejected exception, ...): 409 at the edge."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"cannot {wanted} an exception that is {current}")
        self.current = current
        self.wanted = wanted


class RevisionMismatch(Exception):
    """An approval names a revision of the request that is no longer the current one: 409 at the edge."""

    def __init__(self, current: int, named: int) -> None:
        super().__init__(f"the request changed since revision {named} was reviewed; it is now at revision {current}")
        self.current = current
        self.named = named


class FourEyesViolation(Exception):
    """The requester tried to approve their own exception: 403 at the edge."""


class NotPermitted(Exception):
    """The user's role does not allow this decision: 403 at the edge."""


class RiskAcceptance(models.Model):
    """An exception to one CIS recommendation for a scope, accepted by someone other than its requester, until a date.

    requested -> approved | rejected; approved -> revoked, or expired once `expires_at` passes (computed, never stored).
    """

    Status = RiskAcceptanceStatus

    control = models.CharField(max_length=16, db_index=True, help_text="CIS Docker recommendation ref_id, e.g. 5.5.")
    status = models.CharField(max_length=16, choices=RiskAcceptanceStatus.choices, default=RiskAcceptanceStatus.REQUESTED)

    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices, default=ScopeKind.ALL)
    scope_selector = models.CharField(max_length=500, blank=True, help_text="Label selector, e.g. env=prod,pci=cde.")
    scope_host = models.ForeignKey(
        "inventory.Host", null=True, blank=True, on_delete=models.PROTECT, related_name="risk_acceptances"
    )
    scope_container_pattern = models.CharField(max_length=255, blank=True, help_text="Glob on container names, e.g. web-*.")
    scope_image = models.CharField(max_length=512, blank=True, help_text="Image reference (nginx:1.27) or id (sha256:...).")

    justification = models.TextField(max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    compensating_controls = models.TextField(
        blank=True, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)]
    )
    risk_rating = models.CharField(max_length=16, choices=RiskRating.choices)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rejected_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)])
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(
        blank=True, max_length=TEXT_MAX_LENGTH, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)]
    )

    revision = models.PositiveIntegerField(
        default=1, help_text="Goes up with every change of the request; an approval names the revision it approves."
    )

    last_matched_at = models.DateTimeField(null=True, blank=True, help_text="When posture last found a result it covers.")
    stale_since = models.DateTimeField(null=True, blank=True, help_text="Flagged: matched nothing for the stale period.")

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "risk acceptance"
        indexes = [models.Index(fields=["status", "expires_at"], name="riskacceptance_status_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("requested_at")),
                name="riskacceptance_expires_after_request",
                violation_error_message="The expiry must be after the request.",
            ),
            models.CheckConstraint(
                condition=~Q(scope_kind=ScopeKind.HOST) | Q(scope_host__isnull=False),
                name="riskacceptance_host_scope_names_host",
                violation_error_message="A host scope names a host.",
            ),
            models.CheckConstraint(
                condition=~Q(scope_kind=ScopeKind.CONTAINER) | ~Q(scope_container_pattern=""),
                name="riskacceptance_container_scope_has_pattern",
                violation_error_message="A container scope has a name pattern.",
            ),
            models.CheckConstraint(
                condition=~Q(scope_kind=ScopeKind.IMAGE) | ~Q(scope_image=""),
                name="riskacceptance_image_scope_names_image",
                violation_error_message="An image scope names an image.",
            ),
            models.CheckConstraint(
                condition=~Q(status=RiskAcceptanceStatus.APPROVED) | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="riskacceptance_approved_has_approver",
                violation_error_message="An approved exception records who approved it and when.",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("requested_by")),
                name="riskacceptance_four_eyes",
                violation_error_message="The requester cannot approve their own exception.",
            ),
            models.CheckConstraint(
                condition=~Q(status=RiskAcceptanceStatus.EXPIRED),
                name="riskacceptance_expired_is_computed",
                violation_error_message="Expired is computed from the expiry date, never stored.",
            ),
        ]

    def __str__(self) -> str:
        return f"Exception #{self.pk} for {self.control} ({self.scope_display})"

    def get_absolute_url(self) -> str:
        return reverse("exceptions:riskacceptance-detail", args=[self.pk])

    # State

    def status_at(self, at: datetime.datetime) -> str:
        """The effective status at `at`: a requested or approved exception is expired once its expiry has passed."""
        if self.status == RiskAcceptanceStatus.REVOKED and self.revoked_at and at < self.revoked_at:
            return RiskAcceptanceStatus.APPROVED if at < self.expires_at else RiskAcceptanceStatus.EXPIRED
        if self.status in (RiskAcceptanceStatus.REQUESTED, RiskAcceptanceStatus.APPROVED) and at >= self.expires_at:
            return RiskAcceptanceStatus.EXPIRED
        return self.status

    @property
    def effective_status(self) -> str:
        return self.status_at(timezone.now())

    def get_effective_status_display(self) -> str:
        return RiskAcceptanceStatus(self.effective_status).label

    def is_active(self, at: datetime.datetime) -> bool:
        """Approved, not (yet) revoked, and approved_at <= at < expires_at."""
        return self.approved_at is not None and self.approved_at <= at and self.status_at(at) == RiskAcceptanceStatus.APPROVED

    def days_left(self, at: datetime.datetime | None = None) -> float:
        return (self.expires_at - (at or timezone.now())).total_seconds() / 86400

    def is_stale(self, at: datetime.datetime | None = None) -> bool:
        """Active, and has matched no result for the stale period (counted from approval when it never matched)."""
        at = at or timezone.now()
        since = self.last_matched_at or self.approved_at
        return self.is_active(at) and since is not None and at - since >= datetime.timedelta(days=stale_after_days())

    # Scope

    @cached_property
    def selector(self) -> Selector:
        return parse_selector(self.scope_selector)

    @property
    def scope_display(self) -> str:
        if self.scope_kind == ScopeKind.SELECTOR:
            return f"hosts with {self.scope_selector}"
        if self.scope_kind == ScopeKind.HOST:
            return f"host {self.scope_host}" if self.scope_host_id else "a host"
        if self.scope_kind == ScopeKind.CONTAINER:
            return f"containers {self.scope_container_pattern}"
        if self.scope_kind == ScopeKind.IMAGE:
            return f"image {self.scope_image}"
        return "all hosts"

    def covers(self, result: Any, host: Any, image: tuple[str, str] | None = None) -> bool:
        """True when this exception's control and scope take in the result (its state is the caller's business).

        `result` has .control, .target_kind, .target_name, .target_id (and optionally .evidence); `host` has .id and
        .labels. An image scope takes in image results of that image and container results whose container runs it:
        the image is `image` (reference, id) when the caller knows it, else the result's Config.Image / Image evidence.
        """
        if result.control != self.control:
            return False
        kind = self.scope_kind
        if kind == ScopeKind.ALL:
            return True
        if kind == ScopeKind.SELECTOR:
            return self.selector.matches(getattr(host, "labels", None))
        if kind == ScopeKind.HOST:
            return host is not None and host.id == self.scope_host_id
        if kind == ScopeKind.CONTAINER:
            return result.target_kind == "container" and fnmatchcase(result.target_name, self.scope_container_pattern)
        if kind == ScopeKind.IMAGE:
            if result.target_kind == "image":
                return image_matches(self.scope_image, result.target_name, result.target_id)
            if result.target_kind == "container":
                reference, image_id = image or _container_image(result)
                return image_matches(self.scope_image, reference, image_id)
        return False

    # Validation

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not CONTROL_PATTERN.match(self.control or ""):
            errors["control"] = "Give a CIS Docker recommendation id such as 5.5."
        elif not is_known_control(self.control):
            errors["control"] = f"{self.control} is not a recommendation of the loaded CIS Docker benchmark."
        if self.scope_kind == ScopeKind.SELECTOR:
            try:
                parse_selector(self.scope_selector)
            except SelectorError as exc:
                errors["scope_selector"] = str(exc)
            if not self.scope_selector.strip():
                errors["scope_selector"] = "A label selector scope needs a selector; use scope_kind=all for every host."
        elif self.scope_selector:
            errors["scope_selector"] = "Only a label selector scope has a selector."
        if self.scope_kind == ScopeKind.HOST and self.scope_host_id is None:
            errors["scope_host"] = "A host scope names a host."
        elif self.scope_kind != ScopeKind.HOST and self.scope_host_id is not None:
            errors["scope_host"] = "Only a host scope names a host."
        if self.scope_kind == ScopeKind.CONTAINER and not self.scope_container_pattern.strip():
            errors["scope_container_pattern"] = "A container scope has a name pattern, e.g. web-*."
        elif self.scope_kind != ScopeKind.CONTAINER and self.scope_container_pattern:
            errors["scope_container_pattern"] = "Only a container scope has a name pattern."
        if self.scope_kind == ScopeKind.IMAGE and not self.scope_image.strip():
            errors["scope_image"] = "An image scope names an image reference or id."
        elif self.scope_kind != ScopeKind.IMAGE and self.scope_image:
            errors["scope_image"] = "Only an image scope names an image."
        if self.expires_at is not None:
            start = self.requested_at or timezone.now()
            limit = max_expiry_days()
            if self.expires_at <= start:
                errors["expires_at"] = "The expiry must be in the future."
            elif self.expires_at > start + datetime.timedelta(days=limit):
                errors["expires_at"] = f"The expiry can be at most {limit} days after the request (PLIMSOLL_EXCEPTION_MAX_DAYS)."
        if errors:
            raise ValidationError(errors)


def is_known_control(ref_id: str) -> bool:
    """True when the CIS Docker catalog lists `ref_id`, or when no CIS Docker catalog is loaded to check against."""
    from frameworks.models import Requirement

    catalog = Requirement.objects.filter(framework__slug=BENCHMARK, framework__is_current=True)
    return catalog.filter(ref_id=ref_id).exists() or not catalog.exists()


def _container_image(result: Any) -> tuple[str, str]:
    evidence = getattr(result, "evidence", None) or {}
    reference = getattr(result, "image", "") or evidence.get("Config.Image") or ""
    image_id = getattr(result, "image_id", "") or evidence.get("Image") or ""
    return str(reference), str(image_id)


class ExpiryReminder(Reminder):
    """A reminder sent to an exception's owners N days before it expires; recorded so each is sent once."""

    subject = models.ForeignKey(RiskAcceptance, on_delete=models.CASCADE, related_name="reminders")

    def __str__(self) -> str:
        return f"{self.days_before}-day reminder for exception #{self.subject_id}"
