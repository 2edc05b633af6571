"""Imported evidence: the file a tool wrote, kept unchanged with its sha256, and what it says about which image."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from compliance.imports.choices import ImportKind


class ImportIsImmutable(Exception):
    """Raised when code tries to change a stored import: the file is evidence."""


class ImmutableModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImportIsImmutable(f"a stored {self._meta.verbose_name} is evidence and cannot change")
        super().save(*args, **kwargs)


class ImportedFile(ImmutableModel):
    """One uploaded output of Trivy, Cosign or docker-bench-security, byte for byte, with its sha256; stored once per
    kind."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(help_text="The file exactly as uploaded.")
    size_bytes = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sha256"], name="importedfile_unique_per_kind",
                                    violation_error_message="This file is already imported."),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name or self.sha256[:12]}"


class ImageScan(ImmutableModel):
    """What one Trivy scan found in one image: vulnerabilities by severity, and those a newer package fixes."""

    source = models.OneToOneField(ImportedFile, on_delete=models.PROTECT, related_name="scan")
    artifact_name = models.CharField(max_length=512)
    image_id = models.CharField(max_length=71, db_index=True, help_text="Metadata.ImageID: Docker's image id.")
    repo_tags = models.JSONField(default=list)
    repo_digests = models.JSONField(default=list, help_text="name@sha256:... as the registry knows the image.")
    digests = models.TextField(blank=True, help_text="The manifest digests of repo_digests, space-separated (a text "
                               "lookup any database answers).")
    scanned_at = models.DateTimeField()
    counts = models.JSONField(help_text="Severity -> {total, fixable}.")
    fixable = models.JSONField(default=list, help_text="Vulnerabilities with a fixed version, worst first.")

    class Meta:
        ordering = ["-scanned_at", "-id"]

    def __str__(self) -> str:
        return f"{self.artifact_name} scanned {self.scanned_at:%Y-%m-%d}"

    def fixable_count(self, severities: tuple[str, ...]) -> int:
        return sum(self.counts.get(s, {}).get("fixable", 0) for s in severities)


class ImageSignature(ImmutableModel):
    """A signature or attestation Cosign verified for an image digest, and the identity and issuer that signed it."""

    source = models.ForeignKey(ImportedFile, on_delete=models.PROTECT, related_name="signatures")
    digest = models.CharField(max_length=71, db_index=True, help_text="The image manifest digest (sha256:...).")
    reference = models.CharField(max_length=512, blank=True)
    identity = models.CharField(max_length=512)
    issuer = models.CharField(max_length=512, blank=True)
    kind = models.CharField(max_length=255, help_text="signature, or the attestation's predicate type.")

    class Meta:
        ordering = ["digest", "id"]

    def __str__(self) -> str:
        return f"{self.reference or self.digest} signed by {self.identity}"


class BenchRun(ImmutableModel):
    """One docker-bench-security run on one host (its `-l` JSON log): the version, when it ran, and each check."""

    source = models.OneToOneField(ImportedFile, on_delete=models.PROTECT, related_name="bench")
    host = models.ForeignKey("inventory.Host", on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=32, help_text="The dockerbenchsecurity field: the tool's version.")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(null=True, blank=True)
    score = models.IntegerField(null=True, blank=True)
    results = models.JSONField(help_text="Each check: id, desc, result (PASS, WARN, INFO, NOTE), details, items.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"docker-bench {self.version} on host {self.host_id} at {self.started_at:%Y-%m-%d %H:%M}"
