"""What imported scans and signatures say of a host's CIS 4.4, 4.5 and 4.12 results, for the judge.

Results stay a pure function of snapshot, engine and policy; imports are applied when a result is judged, like
exceptions and evidence (compliance/posture/judge.py asks this module). The rules (docs/cis-docker.md):

- 4.4 (manual): under a policy with `image_scan_max_age_days`, each image of the snapshot takes the verdict of its
  newest Trivy scan imported by the moment judged (matched by image id or repo digest). Any image failing or scanned
  too long ago fails the host's 4.4; every image passing passes it; otherwise (an image without a scan) it stays
  manual and names what is missing. Without the policy field scans decide nothing.
- 4.12 (manual): every image with a Cosign-verified signature (by repo digest, or by an image id that is a manifest
  digest, as with the containerd image store): attested. Some signed: stays manual, naming the unsigned ones.
- 4.5 (fail or error, content trust off or unknown): every image signed and verified by Cosign is the alternative
  evidence: attested. Otherwise the result stands.

The policy is the one the host's evaluation used (Evaluation.policy): the same result is judged the same later.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from compliance.choices import ResultStatus
from compliance.engine import Policy, PolicyError
from compliance.imports.choices import ScanVerdict
from compliance.imports.models import ImageScan, ImageSignature, ImportedFile
from compliance.imports.parsers import DIGEST, digest_of
from compliance.imports.services import scan_verdict
from compliance.models import Evaluation
from compliance.posture.choices import PostureStatus
from inventory.models import SKELETON_MARK, DocumentPart, Snapshot

SCANNED = "4.4"
CONTENT_TRUST = "4.5"
SIGNED = "4.12"
IMPORT_CONTROLS = frozenset({SCANNED, CONTENT_TRUST, SIGNED})
REF_PREFIX = "\x00"
# Images named in a verdict's reason before "and N more".
NAMED = 5


@dataclass(frozen=True)
class HostImage:
    """An image of a snapshot as imports match it: Docker's image id, its tags and its repo digests."""

    image_id: str
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...]

    @property
    def digests(self) -> set[str]:
        """Every sha256 an import may name this image by: its id and the manifest digests of its repo digests."""
        found = {d for d in map(digest_of, self.repo_digests) if d}
        if DIGEST.match(self.image_id):
            found.add(self.image_id)
        return found

    @property
    def label(self) -> str:
        return self.tags[0] if self.tags else (self.repo_digests[0] if self.repo_digests else self.image_id[:19])


@dataclass(frozen=True)
class ImportRef:
    """One imported file a verdict stands on: what the drill-down and host page name."""

    import_id: int
    kind: str
    sha256: str
    name: str
    detail: str


@dataclass(frozen=True)
class ImportedVerdict:
    """The status imports give one host-level result, why, and the imports it stands on."""

    control: str
    status: PostureStatus
    reason: str
    sources: tuple[ImportRef, ...] = ()

    @property
    def label(self) -> str:
        return "; ".join(f"{s.kind} {s.name or '#' + str(s.import_id)} sha256 {s.sha256}" for s in self.sources)


@dataclass
class ImageFindings:
    """What imports say of each image of one snapshot: the newest scan's decision, and the verified signatures."""

    image: HostImage
    scan: ImageScan | None = None
    verdict: str = ""
    reason: str = ""
    signatures: list[ImageSignature] = field(default_factory=list)


def _scan_ref(scan: ImageScan) -> ImportRef:
    return ImportRef(scan.source_id, "trivy", scan.source.sha256, scan.source.original_name,
                     f"{scan.artifact_name} scanned {scan.scanned_at:%Y-%m-%d}")


def _signature_ref(signature: ImageSignature) -> ImportRef:
    signer = signature.identity + (f" ({signature.issuer})" if signature.issuer else "")
    return ImportRef(signature.source_id, "cosign", signature.source.sha256, signature.source.original_name,
                     f"{signature.reference or signature.digest} signed by {signer}")


def _names(images: list[HostImage]) -> str:
    named = ", ".join(i.label for i in images[:NAMED])
    return named + (f" and {len(images) - NAMED} more" if len(images) > NAMED else "")


class ImportIndex:
    """The scans and signatures imported by one moment, indexed by every digest they name; read in one query, on the
    first question that needs them (a posture that judges no 4.4, 4.5 or 4.12 result never reads them)."""

    def __init__(self, at: datetime.datetime, scans: Iterable[ImageScan] | None = None,
                 signatures: Iterable[ImageSignature] | None = None) -> None:
        self.at = at
        self._scans: dict[str, ImageScan] = {}
        self._signatures: dict[str, list[ImageSignature]] = defaultdict(list)
        self._loaded = scans is not None or signatures is not None
        self._index(scans or (), signatures or ())
        self._images: dict[int, list[HostImage]] = {}
        self._policies: dict[int, Policy] = {}
        self._standing_loaded = False

    def _index(self, scans: Iterable[ImageScan], signatures: Iterable[ImageSignature]) -> None:
        for scan in sorted(scans, key=lambda s: (s.scanned_at, s.pk), reverse=True):
            for key in (scan.image_id, *scan.digests.split()):
                self._scans.setdefault(key, scan)  # newest first: the first seen for a digest is the newest
        for signature in signatures:
            self._signatures[signature.digest].append(signature)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        rows = ImportedFile.objects.filter(imported_at__lte=self.at).values_list(
            "id", "sha256", "original_name", "scan__id", "scan__artifact_name", "scan__image_id", "scan__digests",
            "scan__scanned_at", "scan__counts", "signatures__id", "signatures__digest", "signatures__reference",
            "signatures__identity", "signatures__issuer", "signatures__kind",
        ).order_by("id", "signatures__id")
        scans: dict[int, ImageScan] = {}
        signatures: list[ImageSignature] = []
        for (file_id, sha256, name, scan_id, artifact, image_id, digests, scanned_at, counts, sig_id, digest, reference,
             identity, issuer, kind) in rows:
            source = ImportedFile(pk=file_id, sha256=sha256, original_name=name)
            if scan_id is not None and scan_id not in scans and scanned_at <= self.at:
                scans[scan_id] = ImageScan(pk=scan_id, source=source, artifact_name=artifact, image_id=image_id,
                                           digests=digests, scanned_at=scanned_at, counts=counts)
            if sig_id is not None:
                signatures.append(ImageSignature(pk=sig_id, source=source, digest=digest, reference=reference,
                                                 identity=identity, issuer=issuer, kind=kind))
        self._index(scans.values(), sorted(signatures, key=lambda s: (s.digest, s.pk)))

    @property
    def active(self) -> bool:
        """False when nothing was imported by the moment: then imports change no result and cost nothing more."""
        self._load()
        return bool(self._scans or self._signatures)

    # Per image.

    def scan_for(self, image: HostImage) -> ImageScan | None:
        found = [self._scans[d] for d in image.digests if d in self._scans]
        return max(found, key=lambda s: (s.scanned_at, s.pk), default=None)

    def signatures_for(self, image: HostImage) -> list[ImageSignature]:
        return [s for d in sorted(image.digests) for s in self._signatures.get(d, ())]

    def findings(self, images: list[HostImage], policy: Policy) -> list[ImageFindings]:
        out = []
        for image in images:
            item = ImageFindings(image, signatures=self.signatures_for(image))
            item.scan = self.scan_for(image)
            if item.scan is not None:
                decision = scan_verdict(item.scan, policy, self.at)
                item.verdict, item.reason = str(decision.verdict), decision.reason
            out.append(item)
        return out

    # Per snapshot: its images (from the stored document) and the policy its evaluation used, read in batches.

    def prepare(self, snapshot_ids: Iterable[int]) -> None:
        """Read the images and policies of these snapshots at once (a fixed number of queries)."""
        wanted = {int(i) for i in snapshot_ids if i} - self._images.keys()
        if not wanted:
            return
        self._images.update(snapshot_images(wanted))
        policies = Evaluation.objects.filter(snapshot_id__in=wanted, is_current=True).values_list(
            "snapshot_id", "policy_content__data")
        for snapshot_id, data in policies:
            try:
                self._policies[snapshot_id] = Policy.from_dict(data or {})
            except PolicyError:
                self._policies[snapshot_id] = Policy()
        for snapshot_id in wanted:
            self._images.setdefault(snapshot_id, [])
            self._policies.setdefault(snapshot_id, Policy())

    def _ensure(self, snapshot_id: int) -> None:
        if snapshot_id in self._images:
            return
        if not self._standing_loaded:
            # The first miss reads every snapshot standing at the moment: a posture, its drill-down and a report ask
            # about those, so the cost stays a fixed number of queries whatever the number of hosts.
            self._standing_loaded = True
            standing = list(Snapshot.objects.standing(self.at).values_list("id", flat=True))
            self.prepare([*standing, snapshot_id])
        else:
            self.prepare([snapshot_id])

    def images_of(self, snapshot_id: int) -> list[HostImage]:
        self._ensure(snapshot_id)
        return self._images[snapshot_id]

    def policy_of(self, snapshot_id: int) -> Policy:
        self._ensure(snapshot_id)
        return self._policies[snapshot_id]

    # The rules.

    def decide(self, control: str, raw_status: str, snapshot_id: int | None) -> ImportedVerdict | None:
        """What imports make of one host-level result of `control` (None: they change nothing)."""
        if control not in IMPORT_CONTROLS or not snapshot_id or not self.active:
            return None
        if control == SCANNED and raw_status == ResultStatus.MANUAL:
            return self._scanned(snapshot_id)
        if control == SIGNED and raw_status == ResultStatus.MANUAL:
            return self._signed(SIGNED, snapshot_id, "every image's signature was verified by Cosign")
        if control == CONTENT_TRUST and raw_status in (ResultStatus.FAIL, ResultStatus.ERROR):
            verdict = self._signed(CONTENT_TRUST, snapshot_id,
                                   "content trust is not on, but every image's signature was verified by Cosign "
                                   "(the alternative evidence for 4.5)")
            return verdict if verdict is not None and verdict.status == PostureStatus.ATTESTED else None
        return None

    def _scanned(self, snapshot_id: int) -> ImportedVerdict | None:
        images = self.images_of(snapshot_id)
        policy = self.policy_of(snapshot_id)
        if not images or policy.image_scan_max_age_days is None:
            return None
        found = self.findings(images, policy)
        if not any(f.scan for f in found):
            return None
        sources = tuple(dict.fromkeys(_scan_ref(f.scan) for f in found if f.scan))
        bad = [f for f in found if f.verdict in (ScanVerdict.FAIL, ScanVerdict.STALE)]
        if bad:
            reason = "; ".join(f"{f.image.label}: {f.reason}" for f in bad[:NAMED])
            more = f" (and {len(bad) - NAMED} more images)" if len(bad) > NAMED else ""
            failing = tuple(dict.fromkeys(_scan_ref(f.scan) for f in bad if f.scan))
            return ImportedVerdict(SCANNED, PostureStatus.FAIL, f"Trivy: {reason}{more}", failing)
        unscanned = [f.image for f in found if f.scan is None]
        if unscanned:
            return ImportedVerdict(SCANNED, PostureStatus.MANUAL,
                                   f"Trivy: {len(found) - len(unscanned)} of {len(found)} images pass; no scan of "
                                   f"{_names(unscanned)}", sources)
        return ImportedVerdict(SCANNED, PostureStatus.PASS,
                               f"Trivy: all {len(found)} images scanned within {policy.image_scan_max_age_days} days "
                               "with no fixable vulnerability the policy fails", sources)

    def _signed(self, control: str, snapshot_id: int, reason: str) -> ImportedVerdict | None:
        images = self.images_of(snapshot_id)
        if not images:
            return None
        found = [(image, self.signatures_for(image)) for image in images]
        if not any(signatures for _, signatures in found):
            return None
        sources = tuple(dict.fromkeys(_signature_ref(s) for _, signatures in found for s in signatures))
        unsigned = [image for image, signatures in found if not signatures]
        if unsigned:
            return ImportedVerdict(control, PostureStatus.MANUAL,
                                   f"Cosign: {len(images) - len(unsigned)} of {len(images)} images signed; no verified "
                                   f"signature of {_names(unsigned)}", sources)
        return ImportedVerdict(control, PostureStatus.ATTESTED, f"Cosign: {reason}", sources)


def snapshot_images(snapshot_ids: Iterable[int]) -> dict[int, list[HostImage]]:
    """The images of these snapshots with their repo digests, read from the stored documents level by level (the
    skeletons, then one query per level of parts: document, docker, image list, items, inspect objects, and one for
    the bases of the parts stored as deltas), each part read once however many snapshots share it (docs/storage.md)."""
    parts: dict[str, Any] = {}
    rows = list(Snapshot.objects.filter(pk__in=list(snapshot_ids)).values_list("id", "content"))
    roots: dict[int, Any] = {}
    for (snapshot_id, _), stored in zip(rows, Snapshot.unpack_contents([c for _, c in rows]), strict=True):
        roots[snapshot_id] = json.loads(stored[1:] if stored[:1] == SKELETON_MARK else stored)
    documents = _level(parts, roots)
    dockers = _level(parts, {k: v.get("docker") for k, v in documents.items() if isinstance(v, dict)})
    lists = _level(parts, {k: v.get("images") for k, v in dockers.items() if isinstance(v, dict)})
    items = _level(parts, {(k, i): item for k, v in lists.items() if isinstance(v, list) for i, item in enumerate(v)})
    inspects = _level(parts, {k: v.get("inspect") for k, v in items.items() if isinstance(v, dict)})
    out: dict[int, list[HostImage]] = {k: [] for k in roots}
    for (snapshot_id, _), inspect in sorted(inspects.items()):
        if isinstance(inspect, dict):
            out[snapshot_id].append(HostImage(str(inspect.get("Id") or ""), tuple(map(str, inspect.get("RepoTags") or ())),
                                              tuple(map(str, inspect.get("RepoDigests") or ()))))
    return out


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REF_PREFIX)


def _level(parts: dict[str, Any], values: dict[Any, Any]) -> dict[Any, Any]:
    """These values with each reference replaced by its part's stored form (parsed; its own references kept), in one
    query for the parts not read yet."""
    wanted = {v[1:] for v in values.values() if _is_ref(v)} - parts.keys()
    if wanted:
        rows = DocumentPart.objects.filter(sha256__in=wanted).values_list("sha256", "data")
        for sha, stored in DocumentPart.unpack_rows(rows).items():
            parts[sha] = json.loads(stored)
    return {k: parts.get(v[1:]) if _is_ref(v) else v for k, v in values.items()}
