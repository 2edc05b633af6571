"""The evidence chain and verify_evidence: an altered byte anywhere (a part, a skeleton, a chain link, an evidence
file, a report file) is caught; retention keeps every chain verifiable."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from compliance.evidence.models import Evidence
from compliance.reports.models import Report
from compliance.reports.signing import sign_pdf
from compliance.verification import run_verification, verify_evidence
from inventory.choices import EvaluationStatus
from inventory.models import DocumentPart, PrunedSnapshot, Snapshot
from inventory.services import prune_snapshots
from inventory.snapshot_format import references
from tests.storage.stored import ingest_and_store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dirs(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
    settings.PLIMSOLL_REPORT_SIGNING_KEY = ""
    settings.PLIMSOLL_REPORT_SIGNING_CERT = ""


@pytest.fixture
def chain(agent_token, snapshot_doc) -> list[Snapshot]:
    snapshots = []
    for day in ("2026-01-01", "2026-06-01", "2026-11-30"):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"{day}T00:00:00Z"
        snapshots.append(ingest_and_store(doc, agent_token[0]).snapshot)
    Snapshot.objects.update(evaluation_status=EvaluationStatus.DONE)
    return snapshots


def test_it_chains_each_hosts_snapshots_in_ingest_order(chain, agent_token, snapshot_doc):
    first, second, third = (Snapshot.objects.get(pk=s.pk) for s in chain)
    assert (first.previous_sha256, second.previous_sha256, third.previous_sha256) == ("", first.sha256, second.sha256)
    # Another host starts its own chain.
    other = snapshot_doc(1)
    assert ingest_and_store(other, agent_token[0]).snapshot.previous_sha256 == ""


def test_it_verifies_intact_evidence_and_records_the_outcome(chain, tmp_path, alice):
    evidence, report = _evidence_file(alice), _report(alice, tmp_path)
    outcome = run_verification()
    assert outcome.ok, outcome.problems
    assert (outcome.snapshots, outcome.chains, outcome.evidence_files, outcome.reports) == (3, 1, 1, 1)
    assert outcome.parts > 0 and outcome.rate > 0
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.action == "verify" and event.changes["ok"] == [None, True]
    assert evidence.pk and report.pk


def test_it_catches_an_altered_document_part(chain):
    sha = references(Snapshot.objects.get(pk=chain[0].pk).skeleton)[0]
    stored = DocumentPart.unpack(DocumentPart.objects.get(pk=sha).data)
    DocumentPart.objects.filter(pk=sha).update(data=DocumentPart.pack(stored[:-1] + b" " + stored[-1:]))
    outcome = verify_evidence()
    assert not outcome.ok
    assert any(sha in problem for problem in outcome.problems)


@pytest.mark.parametrize("whole", [True, False], ids=["whole-part", "delta-part"])
def test_it_reports_stored_bytes_that_no_longer_decompress_and_goes_on(chain, whole, agent_token, snapshot_doc):
    """A damaged byte in a part's compressed data (not a changed text): reported by sha256, the run finishes."""
    doc = snapshot_doc()
    doc["agent"]["collected_at"] = "2026-12-01T00:00:00Z"
    doc["docker"]["containers"][0]["inspect"]["Config"]["Labels"] = {"changed": "yes"}  # stored as a delta
    ingest_and_store(doc, agent_token[0])
    rows = DocumentPart.objects.values_list("sha256", "data")
    sha, data = next((s, bytes(d)) for s, d in rows if (DocumentPart.base_of(d) is None) == whole)
    damaged = data[:12] + bytes(b ^ 0xFF for b in data[12:20]) + data[20:]
    DocumentPart.objects.filter(pk=sha).update(data=damaged)
    outcome = verify_evidence()
    assert not outcome.ok and outcome.snapshots == 4
    assert any(sha in problem for problem in outcome.problems), outcome.problems


def test_it_catches_an_altered_skeleton_and_the_command_exits_non_zero(chain):
    target = Snapshot.objects.get(pk=chain[1].pk)
    skeleton = target.skeleton.replace(b"2026-06-01", b"2026-06-02", 1)
    Snapshot.objects.filter(pk=target.pk).update(content=Snapshot.pack_skeleton(skeleton, True))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("verify_evidence", stdout=out)
    assert f"snapshot {target.pk}: the stored document no longer hashes" in out.getvalue()


def test_it_catches_a_broken_chain_link(chain):
    Snapshot.objects.filter(pk=chain[2].pk).update(previous_sha256=chain[0].sha256)
    outcome = verify_evidence()
    assert outcome.mismatches == 1 and f"snapshot {chain[2].pk}: previous_sha256" in outcome.problems[0]


def test_it_catches_an_altered_evidence_file_and_report(chain, tmp_path, alice):
    evidence, report = _evidence_file(alice), _report(alice, tmp_path)
    Path(evidence.file.path).write_bytes(b"changed")
    data = bytearray(Path(report.file.path).read_bytes())
    data[len(data) // 2] ^= 1
    Path(report.file.path).write_bytes(bytes(data))
    outcome = verify_evidence()
    assert any(f"evidence {evidence.pk}:" in p for p in outcome.problems)
    assert any(f"report {report.pk}: its file no longer hashes" in p for p in outcome.problems)
    assert any(f"report {report.pk}: signature" in p for p in outcome.problems)


def test_pruning_keeps_the_chain_verifiable_and_sweeps_unreferenced_parts(chain, settings, agent_token, snapshot_doc):
    settings.PLIMSOLL_SNAPSHOT_RETENTION_DAYS = 30
    doc = snapshot_doc()
    doc["agent"]["collected_at"] = "2026-01-02T00:00:00Z"
    doc["docker"]["containers"][0]["inspect"]["Path"] = "/only-in-an-old-snapshot"
    lone = ingest_and_store(doc, agent_token[0]).snapshot
    only_there = set(references(DocumentPart.unpack(_part_of(lone, "containers"))))
    before = DocumentPart.objects.count()
    assert prune_snapshots(now=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)) == 3
    assert list(Snapshot.objects.values_list("pk", flat=True)) == [chain[2].pk]
    assert set(PrunedSnapshot.objects.values_list("pk", flat=True)) == {chain[0].pk, chain[1].pk, lone.pk}
    # The kept snapshot's parts stay; the container only the pruned one held is gone.
    assert Snapshot.objects.get(pk=chain[2].pk).verify()
    assert DocumentPart.objects.count() < before
    assert not DocumentPart.objects.filter(pk__in=only_there - _all_parts(chain[2])).exists()
    outcome = verify_evidence()
    assert outcome.ok, outcome.problems
    assert outcome.pruned == 3
    # The next snapshot chains to the last one ingested, pruned or not.
    nxt = snapshot_doc()
    nxt["agent"]["collected_at"] = "2026-12-01T00:00:00Z"
    assert ingest_and_store(nxt, agent_token[0]).snapshot.previous_sha256 == lone.sha256
    assert verify_evidence().ok


def _part_of(snapshot: Snapshot, key: str) -> bytes:
    skeleton = Snapshot.objects.get(pk=snapshot.pk).skeleton
    marker = skeleton.split(f'"{key}":"'.encode(), 1)[1][6:70].decode()
    return DocumentPart.objects.get(pk=marker).data


def _all_parts(snapshot: Snapshot) -> set[str]:
    return set(DocumentPart.stored_forms(Snapshot.objects.get(pk=snapshot.pk).skeleton))


def _evidence_file(user: Any) -> Evidence:
    data = b"firewall export 2026-11-30\n"
    now = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    evidence = Evidence(kind=Evidence.Kind.FILE, title="fw", collected_at=now, valid_until=now + datetime.timedelta(30),
                        uploaded_by=user, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    evidence.file.save("fw.txt", ContentFile(data), save=False)
    evidence.save()
    return evidence


def _report(user: Any, tmp_path: Path) -> Report:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    source, signed = tmp_path / "blank.pdf", tmp_path / "signed.pdf"
    with source.open("wb") as handle:
        writer.write(handle)
    sign_pdf(source, signed)
    data = signed.read_bytes()
    report = Report(kind="hardening", requested_by=user, status="done", sha256=hashlib.sha256(data).hexdigest(),
                    size_bytes=len(data))
    report.file.save("r.pdf", ContentFile(data), save=False)
    report.save()
    return report


def test_gzip_is_the_skeleton_codec():
    # Snapshot.content stays gzip, as tools reading it directly expect.
    assert gzip.decompress(Snapshot.pack_skeleton(b"{}", True)) == b"\x00{}"
