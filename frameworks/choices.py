"""Choices shared by the frameworks models, the loader and the API filters."""

from django.db import models


class Kind(models.TextChoices):
    """What a node of a requirement tree is, in its own framework's terms."""

    SECTION = "section", "Section"
    RECOMMENDATION = "recommendation", "Recommendation"
    PRINCIPAL_REQUIREMENT = "principal_requirement", "Principal requirement"
    SUB_REQUIREMENT = "sub_requirement", "Sub-requirement"
    DEFINED_REQUIREMENT = "defined_requirement", "Defined requirement"
    STANDARD = "standard", "Standard"
    IMPLEMENTATION_SPECIFICATION = "implementation_specification", "Implementation specification"
    CHAPTER = "chapter", "Chapter"
    ARTICLE = "article", "Article"
    PARAGRAPH = "paragraph", "Paragraph"
    POINT = "point", "Point"


class Relationship(models.TextChoices):
    """How a source requirement relates to a target one (set-theory relationships, as in NIST OLIR and CISO Assistant)."""

    EQUAL = "equal", "Equal"
    SUBSET = "subset", "Subset (source covers part of the target)"
    SUPERSET = "superset", "Superset (source covers more than the target)"
    INTERSECT = "intersect", "Intersect (they overlap)"


class ProfileLevel(models.TextChoices):
    """CIS Benchmark profile level as the benchmark marks it."""

    L1 = "L1", "Level 1"
    L2 = "L2", "Level 2"
    L1_L2 = "L1/L2", "Level 1 and Level 2"
    L1_SWARM = "L1 (Docker Swarm)", "Level 1 (Docker Swarm)"


class Assessment(models.TextChoices):
    """Whether the CIS PDF marks a recommendation's assessment as Automated or Manual."""

    AUTOMATED = "automated", "Automated"
    MANUAL = "manual", "Manual"


class Implementation(models.TextChoices):
    """HIPAA: whether an implementation specification (or a standard with none) is Required or Addressable."""

    REQUIRED = "required", "Required"
    ADDRESSABLE = "addressable", "Addressable"


class Safeguard(models.TextChoices):
    """HIPAA Security Rule safeguard category (the CFR section a standard sits in)."""

    ADMINISTRATIVE = "administrative", "Administrative safeguards"
    PHYSICAL = "physical", "Physical safeguards"
    TECHNICAL = "technical", "Technical safeguards"
    ORGANIZATIONAL = "organizational", "Organizational requirements"
    DOCUMENTATION = "documentation", "Policies and procedures and documentation requirements"
