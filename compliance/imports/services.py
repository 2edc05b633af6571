"""Imports: store a tool's output as evidence (checked, hashed, atomic), and what a scan says of an image.

A Trivy scan decides CIS 4.4 for its image under the site policy: it passes when it is younger than
`image_scan_max_age_days` and finds no fixable vulnerability of `image_scan_fail_severities` (CRITICAL and HIGH
unless set). A Cosign verification records that an image digest is signed, by whom, as evidence for 4.12 and 4.5.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from audit.choices import AuditAction
from audit.services import record
from common.roles import can_manage
from compliance.engine import Policy
from compliance.imports.choices import ImportKind, ScanVerdict
from compliance.imports.models import BenchRun, ImageScan, ImageSignature, ImportedFile
from compliance.imports.parsers import ImportRejected, load_json, parse_cosign, parse_docker_bench, parse_trivy
from inventory.models import Host

DEFAULT_FAIL_SEVERITIES = ("CRITICAL", "HIGH")


class NotPermitted(Exception):
    """Only security managers and admins import evidence."""


@dataclass
class ImportResult:
    file: ImportedFile
    created: bool


def max_import_bytes() -> int:
    return int(settings.PLIMSOLL_EVIDENCE_MAX_BYTES)


def import_evidence(
    kind: str, data: bytes, *, by: Any, name: str = "", identity: str = "", issuer: str = "", host: Any = None,
    request: HttpRequest | None = None,
) -> ImportResult:
    """Check and store one file; the same file again answers the first import. Raises ImportRejected, NotPermitted.

    A docker-bench log is a run on one `host` (a Host, its id or its hostname)."""
    if not can_manage(by):
        raise NotPermitted("only a security manager or an admin can import evidence")
    if kind not in ImportKind.values:
        raise ImportRejected("kind", f"expected one of {', '.join(ImportKind.values)}")
    if len(data) > max_import_bytes():
        raise ImportRejected("file", f"larger than {max_import_bytes()} bytes (PLIMSOLL_EVIDENCE_MAX_BYTES)")
    if not data:
        raise ImportRejected("file", "empty")
    bench_host = bench_host_of(host) if kind == ImportKind.DOCKER_BENCH else None
    sha256 = hashlib.sha256(data).hexdigest()
    existing = ImportedFile.objects.filter(kind=kind, sha256=sha256).first()
    if existing is not None:
        return ImportResult(existing, False)
    # Parse everything before writing anything: a malformed file stores nothing.
    signatures = []
    if kind == ImportKind.TRIVY:
        scan = parse_trivy(load_json(data))
    elif kind == ImportKind.DOCKER_BENCH:
        log = parse_docker_bench(load_json(data))
    else:
        try:
            signatures = parse_cosign(data, identity=identity.strip(), issuer=issuer.strip())
        except UnicodeDecodeError:
            raise ImportRejected("file", "not UTF-8 text") from None
        for i, s in enumerate(signatures):
            if not s.identity:
                raise ImportRejected("identity", f"signature {i}: the payload names no signer; give the "
                                     "--certificate-identity (or key) the verification required")
    try:
        with transaction.atomic():
            stored = ImportedFile.objects.create(
                kind=kind, sha256=sha256, content=data, size_bytes=len(data),
                original_name=name.replace("\x00", "")[:255], imported_by=by, imported_at=timezone.now(),
            )
            if kind == ImportKind.TRIVY:
                ImageScan.objects.create(
                    source=stored, artifact_name=scan.artifact_name[:512], image_id=scan.image_id,
                    repo_tags=scan.repo_tags, repo_digests=scan.repo_digests, digests=" ".join(scan.digests),
                    scanned_at=scan.scanned_at, counts=scan.counts, fixable=scan.fixable,
                )
            elif kind == ImportKind.DOCKER_BENCH:
                BenchRun.objects.create(
                    source=stored, host=bench_host, version=log.version, started_at=log.started_at,
                    ended_at=log.ended_at, checks=log.checks, score=log.score, results=log.results,
                )
            else:
                ImageSignature.objects.bulk_create([
                    ImageSignature(source=stored, digest=s.digest, reference=s.reference[:512], identity=s.identity[:512],
                                   issuer=s.issuer[:512], kind=s.kind[:255])
                    for s in signatures
                ])
            changes = {"kind": [None, kind], "sha256": [None, sha256], "original_name": [None, name]}
            if bench_host is not None:
                changes["host"] = [None, bench_host.hostname]
            record(AuditAction.CREATE, stored, actor=by, request=request, changes=changes)
    except IntegrityError:
        # The same file imported at the same moment by someone else: theirs stands.
        return ImportResult(ImportedFile.objects.get(kind=kind, sha256=sha256), False)
    return ImportResult(stored, True)


def bench_host_of(value: Any) -> Host:
    """The host a docker-bench log was run on: a Host, its id, or its hostname."""
    if isinstance(value, Host):
        return value
    text = str(value or "").strip()
    if not text:
        raise ImportRejected("host", "required: the host docker-bench ran on (id or hostname)")
    found = Host.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) < 19 else None
    found = found or Host.objects.filter(hostname=text[:255]).order_by("id").first()
    if found is None:
        raise ImportRejected("host", f"no host {text[:80]!r}")
    return found


@dataclass
class ScanDecision:
    """What the newest scan of an image says under the policy, and why."""

    verdict: ScanVerdict
    reason: str
    scan: ImageScan | None


def scan_verdict(scan: ImageScan, policy: Policy, at: datetime.datetime) -> ScanDecision:
    if policy.image_scan_max_age_days is None:
        return ScanDecision(ScanVerdict.NO_POLICY, "the site policy sets no image_scan_max_age_days", scan)
    age = at - scan.scanned_at
    if age > datetime.timedelta(days=policy.image_scan_max_age_days):
        return ScanDecision(ScanVerdict.STALE, f"scanned {age.days} days ago, more than the "
                            f"{policy.image_scan_max_age_days} days the policy accepts", scan)
    severities = policy.image_scan_fail_severities or DEFAULT_FAIL_SEVERITIES
    found = {s: scan.counts.get(s, {}).get("fixable", 0) for s in severities}
    if any(found.values()):
        listed = ", ".join(f"{n} {s}" for s, n in found.items() if n)
        return ScanDecision(ScanVerdict.FAIL, f"fixable vulnerabilities: {listed} (rebuild with the fixed packages)", scan)
    return ScanDecision(ScanVerdict.PASS, f"no fixable {'/'.join(severities)} vulnerability, scanned "
                        f"{scan.scanned_at:%Y-%m-%d}", scan)


def newest_scan(image_id: str, digests: list[str], at: datetime.datetime | None = None) -> ImageScan | None:
    """The newest scan of an image, matched by its id or any of its repo digests, imported by `at`."""
    at = at or timezone.now()
    match = Q(image_id=image_id) if image_id else Q(pk__in=[])
    for digest in digests:
        match |= Q(digests__contains=digest)
    rows = ImageScan.objects.filter(match, scanned_at__lte=at, source__imported_at__lte=at)
    return rows.select_related("source").order_by("-scanned_at", "-id").first()


def signatures_of(digests: list[str], at: datetime.datetime | None = None) -> list[ImageSignature]:
    """The signatures Cosign verified for any of these digests, imported by `at`."""
    at = at or timezone.now()
    rows = ImageSignature.objects.filter(digest__in=digests, source__imported_at__lte=at)
    return list(rows.select_related("source").order_by("digest", "id"))
