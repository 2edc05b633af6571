"""Versioned framework catalogs, their requirement trees, and crosswalks between them.

Identity is the URN (and `ref_id` inside a framework), never a database id. Each load of a new `revision` of a catalog
or crosswalk file adds rows beside the old ones; older revisions stay in place, flagged `is_current=False`, so results
and reports made under them remain true.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse

from frameworks.choices import Assessment, Implementation, Kind, ProfileLevel, Relationship, Safeguard


class FrameworkQuerySet(models.QuerySet):
    """Framework.objects, with the catalogs a user should start from today."""

    def in_force(self) -> FrameworkQuerySet:
        """Current revisions that no other current catalog supersedes (PCI DSS 4.0.1 supersedes 4.0).

        A superseded catalog stays loaded and current: results, posture records and reports that name it stay true, and
        it is reachable by its slug; it is just not offered as a default any more.
        """
        return self.filter(is_current=True).exclude(urn__in=_superseded_urns())

    def superseded(self) -> FrameworkQuerySet:
        """Current revisions another current catalog supersedes: still loaded and reachable, offered apart."""
        return self.filter(is_current=True, urn__in=_superseded_urns())


def _superseded_urns() -> models.QuerySet:
    return Framework.objects.filter(is_current=True).exclude(supersedes="").values("supersedes")


class Framework(models.Model):
    """One revision of a framework catalog (CIS Docker v1.6.0, PCI DSS v4.0, ...), loaded from one YAML file.

    A newer revision of the same URN becomes current; the older one stays, with `is_current=False`. A newer *version*
    of a framework (PCI DSS 4.0.1 after 4.0) is its own URN and slug, loaded beside the old one; `supersedes` names
    the URN it replaces, so the old one drops out of `Framework.objects.in_force()`.
    """

    urn = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, help_text="Last segment of the URN, e.g. pci-dss-4.0.")
    revision = models.PositiveIntegerField(help_text="Version of the catalog file, not of the framework.")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=50, help_text="The publisher's version, e.g. 4.0.")
    publisher = models.CharField(max_length=200)
    published_on = models.DateField(null=True, blank=True)
    source = models.TextField(blank=True, help_text="Where the ids and structure were taken from.")
    licence = models.TextField(blank=True, help_text="Licence of the source and what this catalog may reproduce.")
    description = models.TextField(blank=True)
    supersedes = models.CharField(
        max_length=200, blank=True, default="",
        help_text="URN of the framework version this one replaces, e.g. urn:plimsoll:framework:pci-dss-4.0 for 4.0.1.",
    )
    sha256 = models.CharField(max_length=64, help_text="Digest of the file this revision was loaded from.")
    is_current = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["slug", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["urn", "revision"],
                name="framework_unique_urn_revision",
                violation_error_message="This revision of the framework is already loaded.",
            ),
            models.UniqueConstraint(
                fields=["urn"],
                condition=Q(is_current=True),
                name="framework_one_current_revision",
                violation_error_message="Only one revision of a framework can be current.",
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(is_current=True),
                name="framework_current_slug_unique",
                violation_error_message="Pages, posture and the API find a framework by its slug: one current each.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("frameworks:framework-detail", args=[self.slug])

    @property
    def label(self) -> str:
        """The exact version, as posture, reports and exports print it: "PCI DSS 4.0.1"."""
        return f"{self.name} {self.version}"

    @property
    def superseded_by(self) -> Framework | None:
        """The current catalog that replaces this one, if one is loaded."""
        return Framework.objects.filter(is_current=True, supersedes=self.urn).exclude(urn=self.urn).first()


class Requirement(models.Model):
    """A node of a framework's requirement tree: a section, a requirement, or an assessable recommendation."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    ref_id = models.CharField(max_length=64, help_text="The framework's own id, e.g. 5.5, 2.2.1, 164.312(b), 32(1)(b).")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    depth = models.PositiveSmallIntegerField(help_text="1 for a root node.")
    order = models.PositiveIntegerField(help_text="Position in a depth-first walk of the tree.")
    section = models.CharField(max_length=64, help_text="ref_id of the root node this one sits under.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    assessable = models.BooleanField()
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="Short summary in Plimsoll's words, never the publisher's text.")
    level = models.CharField(max_length=20, choices=ProfileLevel.choices, blank=True, help_text="CIS profile level.")
    assessment = models.CharField(max_length=12, choices=Assessment.choices, blank=True, help_text="CIS: as the PDF marks it.")
    implementation = models.CharField(
        max_length=12, choices=Implementation.choices, blank=True, help_text="HIPAA: Required or Addressable."
    )
    safeguard = models.CharField(max_length=16, choices=Safeguard.choices, blank=True, help_text="HIPAA category.")

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "ref_id"],
                name="requirement_unique_ref_id",
                violation_error_message="A framework cannot have two requirements with the same ref_id.",
            ),
        ]
        indexes = [models.Index(fields=["framework", "parent"], name="requirement_framework_parent")]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("frameworks:requirement-detail", args=[self.framework.slug, self.ref_id])

    @property
    def urn(self) -> str:
        """urn:plimsoll:framework:pci-dss-4.0 -> urn:plimsoll:req:pci-dss-4.0:2.2.1."""
        prefix, _, slug = self.framework.urn.rpartition(":framework:")
        return f"{prefix}:req:{slug}:{self.ref_id}"


class Crosswalk(models.Model):
    """One revision of a set of mappings from one framework's requirements to another's, loaded from one YAML file.

    It is bound to the framework revisions that were current when it was loaded; a newer revision becomes current.
    """

    urn = models.CharField(max_length=200)
    slug = models.SlugField(max_length=150)
    revision = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    method = models.TextField(blank=True, help_text="How the mappings were derived and reviewed.")
    source_framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="crosswalks_from")
    target_framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="crosswalks_to")
    sha256 = models.CharField(max_length=64)
    is_current = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["urn", "revision"],
                name="crosswalk_unique_urn_revision",
                violation_error_message="This revision of the crosswalk is already loaded.",
            ),
            models.UniqueConstraint(
                fields=["urn"],
                condition=Q(is_current=True),
                name="crosswalk_one_current_revision",
                violation_error_message="Only one revision of a crosswalk can be current.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Mapping(models.Model):
    """A crosswalk row: how one source requirement relates to one target requirement, why, and where that came from."""

    crosswalk = models.ForeignKey(Crosswalk, on_delete=models.CASCADE, related_name="mappings")
    source = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="mappings_as_source")
    target = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="mappings_as_target")
    relationship = models.CharField(max_length=12, choices=Relationship.choices)
    rationale = models.CharField(max_length=300, help_text="One line: why the relationship holds.")
    provenance = models.CharField(max_length=300, help_text="Where it came from, e.g. a CIS Controls -> SCF chain.")
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["crosswalk", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["crosswalk", "source", "target"],
                name="mapping_unique_pair",
                violation_error_message="A crosswalk maps a pair of requirements at most once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.ref_id} {self.relationship} {self.target.ref_id}"
