"""End-to-end verification of the stored evidence (issue 14, section 4), for `manage.py verify_evidence` and beat.

Checks: every snapshot's canonical document, reassembled from its skeleton and document parts, against its sha256
(each part is also checked against its own sha256, once, however many snapshots share it); every host's hash chain
(each snapshot's previous_sha256 is the sha256 of the host's previous snapshot in ingest order, kept or pruned); every
evidence file against its sha256; every finished report's file against its sha256 and its PAdES signature.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from django.db.models import Q

from compliance.evidence.models import Evidence
from compliance.reports.choices import ReportStatus
from compliance.reports.models import Report
from compliance.reports.signing import check_signature
from inventory.models import SKELETON_MARK, DocumentPart, MissingPart, PrunedSnapshot, Snapshot
from inventory.snapshot_format import references, splice

BATCH = 500
PART_CACHE = 20_000  # parts kept assembled between batches (shared by the snapshots of a host, and across hosts)
MAX_LISTED = 50  # mismatches listed in the outcome; all are counted
AUDIT_ACTION = "verify"  # audit.choices.AuditAction.VERIFY


@dataclass
class Outcome:
    """What a verification found: counts of what was checked and every mismatch (the first MAX_LISTED listed)."""

    snapshots: int = 0
    parts: int = 0
    chains: int = 0
    pruned: int = 0
    evidence_files: int = 0
    reports: int = 0
    mismatches: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def fail(self, problem: str) -> None:
        self.mismatches += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    @property
    def rate(self) -> float:
        return self.snapshots / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "snapshots": self.snapshots, "document_parts": self.parts, "chains": self.chains,
            "pruned_links": self.pruned, "evidence_files": self.evidence_files, "reports": self.reports,
            "mismatches": self.mismatches, "seconds": round(self.seconds, 3),
            "snapshots_per_second": round(self.rate, 1), "problems": self.problems,
        }


class _Parts:
    """Document parts assembled and checked against their sha256 once each; a bounded cache between batches."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.assembled: dict[str, bytes | None] = {}  # None: missing or altered (already reported)
        self.bases: dict[str, bytes] = {}  # stored forms of the skeletons snapshot contents are deltas against

    def load_bases(self, contents: list[Any]) -> None:
        wanted = {b for c in contents if (b := Snapshot.content_base(c)) is not None} - self.bases.keys()
        if wanted:
            rows = [(sha, data) for sha, data in
                    DocumentPart.objects.filter(sha256__in=wanted).values_list("sha256", "data")
                    if DocumentPart.base_of(data) is None]
            # A damaged base is left out here; the snapshots standing on it are reported below.
            self.bases.update(DocumentPart.unpack_rows(rows, skip_broken=True))

    def load(self, roots: set[str]) -> None:
        stored: dict[str, bytes] = {}
        wanted = roots - self.assembled.keys()
        while wanted:
            rows = list(DocumentPart.objects.filter(sha256__in=wanted).values_list("sha256", "data"))
            found = {sha for sha, _ in rows}
            level = DocumentPart.unpack_rows(rows, skip_broken=True)  # a delta without its base: missing
            for sha in wanted - level.keys():
                self.assembled[sha] = None
                self.outcome.fail(f"document part {sha}: " + (
                    "altered (its stored bytes no longer decompress)" if sha in found else "missing"))
            stored.update(level)
            wanted = {ref for form in level.values() for ref in references(form)} - stored.keys()
            wanted -= self.assembled.keys()
        for sha in stored:
            self._assemble(sha, stored)

    def _assemble(self, sha: str, stored: dict[str, bytes]) -> bytes | None:
        if sha in self.assembled:
            return self.assembled[sha]
        try:
            whole = splice(stored[sha], lambda ref: self._assemble(ref, stored) or b"")
        except KeyError:
            whole = None
        if whole is not None and hashlib.sha256(whole).hexdigest() != sha:
            self.outcome.fail(f"document part {sha}: its bytes no longer hash to its sha256")
            whole = None
        self.assembled[sha] = whole
        self.outcome.parts += 1
        return whole

    def get(self, sha: str) -> bytes:
        whole = self.assembled.get(sha)
        if whole is None:
            raise KeyError(sha)
        return whole

    def trim(self) -> None:
        if len(self.assembled) > PART_CACHE:
            self.assembled.clear()
        if len(self.bases) > PART_CACHE:
            self.bases.clear()


def _snapshots(outcome: Outcome, parts: _Parts) -> None:
    last = 0
    while True:
        batch = list(
            Snapshot.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "sha256", "content")[:BATCH]
        )
        if not batch:
            return
        last = batch[-1][0]
        parts.load_bases([content for _, _, content in batch])
        stored = []
        for pk, sha, content in batch:
            try:
                stored.append((pk, sha, Snapshot.unpack_content(content, parts.bases)))
            except MissingPart as exc:
                outcome.snapshots += 1
                outcome.fail(f"snapshot {pk}: document part {exc.sha256} is missing")
            except zlib.error:
                outcome.snapshots += 1
                outcome.fail(f"snapshot {pk}: its stored content is damaged")
        parts.load({ref for _, _, form in stored if form[:1] == SKELETON_MARK for ref in references(form[1:])})
        for pk, sha, form in stored:
            outcome.snapshots += 1
            try:
                canonical = splice(form[1:], parts.get) if form[:1] == SKELETON_MARK else form
            except KeyError as exc:
                outcome.fail(f"snapshot {pk}: document part {exc.args[0]} is missing or altered")
                continue
            if hashlib.sha256(canonical).hexdigest() != sha:
                outcome.fail(f"snapshot {pk}: the stored document no longer hashes to its sha256")
        parts.trim()


def _chains(outcome: Outcome) -> None:
    kept = Snapshot.objects.values_list("host_id", "pk", "sha256", "previous_sha256")
    pruned = PrunedSnapshot.objects.values_list("host_id", "pk", "sha256", "previous_sha256")
    links = sorted([*kept.iterator(5000), *pruned.iterator(5000)])
    outcome.pruned = sum(1 for _ in pruned.iterator(5000))
    host, head = None, ""
    for host_id, pk, sha, previous in links:
        if host_id != host:
            host, head = host_id, ""
            outcome.chains += 1
        if previous != head:
            outcome.fail(f"host {host_id}, snapshot {pk}: previous_sha256 is {previous or 'empty'}, the chain says "
                         f"{head or 'empty'}")
        head = sha


def _file_sha256(field_file: Any) -> str:
    digest = hashlib.sha256()
    with field_file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(outcome: Outcome) -> None:
    for evidence in Evidence.objects.exclude(file="").only("pk", "file", "sha256").iterator(500):
        outcome.evidence_files += 1
        try:
            if _file_sha256(evidence.file) != evidence.sha256:
                outcome.fail(f"evidence {evidence.pk}: its file no longer hashes to its sha256")
        except OSError as exc:
            outcome.fail(f"evidence {evidence.pk}: its file cannot be read ({exc.strerror or exc})")
    done = Report.objects.filter(Q(status=ReportStatus.DONE) & ~Q(file=""))
    for report in done.only("pk", "file", "sha256").iterator(100):
        outcome.reports += 1
        try:
            with report.file.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
            outcome.fail(f"report {report.pk}: its file cannot be read ({exc.strerror or exc})")
            continue
        if hashlib.sha256(data).hexdigest() != report.sha256:
            outcome.fail(f"report {report.pk}: its file no longer hashes to its sha256")
        signature = check_signature(data)
        if not signature.ok:
            outcome.fail(f"report {report.pk}: signature: {signature.reason}")


STEPS: tuple[tuple[str, Callable[[Outcome], None]], ...] = (
    ("chains", _chains),
    ("files", _files),
)


def verify_evidence(progress: Callable[[str], None] | None = None) -> Outcome:
    """Check every snapshot, chain, evidence file and report; never raises on a mismatch, counts it."""
    outcome = Outcome()
    started = time.perf_counter()
    _snapshots(outcome, _Parts(outcome))
    if progress:
        progress(f"snapshots checked: {outcome.snapshots}")
    for name, step in STEPS:
        step(outcome)
        if progress:
            progress(f"{name} checked")
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_verification() -> Outcome:
    """Verify everything and record the outcome in the audit trail (what the daily beat task runs)."""
    from audit.services import record

    outcome = verify_evidence()
    summary = outcome.summary()
    record(AUDIT_ACTION, None, object_repr="evidence verification: " + ("intact" if outcome.ok else "MISMATCH"),
           username="system", changes={key: [None, value] for key, value in summary.items()})
    return outcome


@shared_task(name="compliance.verify_evidence")
def verify_evidence_task() -> dict[str, Any]:
    return run_verification().summary()


