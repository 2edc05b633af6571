"""Which document parts ingest stores: none for a repeat that changed only times and counters (docker.info is inline
in the skeleton, its large members apart), and what a snapshot stored with docker.info as a part still reads."""

from __future__ import annotations

import copy
import hashlib

import orjson
import pytest

from inventory.models import DocumentPart, Snapshot
from inventory.snapshot_format import canonical_bytes, split_document
from tests.storage.stored import ingest_and_store

pytestmark = pytest.mark.django_db


DOCKER_PLUGINS = {  # what a Docker Engine with an authorization plugin reports: a part of its own (>= 256 bytes)
    "Authorization": ["opa-docker-authz:latest", "img-authz-plugin:latest"],
    "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "logentries", "splunk",
            "syslog"],
    "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
    "Volume": ["local", "rexray/ebs:latest"],
}


def _docker_info(doc: dict) -> dict:
    doc["docker"]["info"]["Plugins"] = copy.deepcopy(DOCKER_PLUGINS)
    return doc


def _tick(doc: dict, hour: int) -> dict:
    doc = copy.deepcopy(doc)
    when = f"2026-12-01T{8 + hour:02d}:00:00Z"
    doc["agent"]["collected_at"] = when
    info = doc["docker"]["info"]
    info["SystemTime"] = when
    info["NGoroutines"] = 40 + hour
    info["NFd"] = 30 + hour
    return doc


def _check(snapshot: Snapshot, doc: dict) -> None:
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert stored.canonical == canonical_bytes(doc) and stored.verify()


def test_it_adds_no_document_part_for_a_repeat_with_only_times_and_counters_changed(agent_token, snapshot_doc):
    first_doc = _docker_info(snapshot_doc())
    first = ingest_and_store(copy.deepcopy(first_doc), agent_token[0]).snapshot
    parts = DocumentPart.objects.count()
    for hour in range(1, 4):
        doc = _tick(first_doc, hour)
        snapshot = ingest_and_store(copy.deepcopy(doc), agent_token[0]).snapshot
        assert DocumentPart.objects.count() == parts
        # The changed clock and counters are in the skeleton, a small delta against the host's first one.
        assert Snapshot.content_base(snapshot.content) == first.sha256 and len(snapshot.content) < 300
        _check(snapshot, doc)


def test_it_keeps_docker_info_inline_and_its_large_members_apart(snapshot_doc):
    doc = _docker_info(snapshot_doc())
    split = split_document(doc, canonical_bytes(doc))
    info_paths = [path for path in split.paths.values() if path[:2] == ("docker", "info")]
    assert ("docker", "info") not in split.paths.values()
    large = [key for key, value in doc["docker"]["info"].items()
             if isinstance(value, (dict, list)) and len(canonical_bytes(value)) >= 256]
    assert large and sorted(path[2] for path in info_paths) == sorted(large)
    assert b'"SystemTime":' in split.skeleton


def _old_layout(doc: dict) -> tuple[bytes, dict[str, bytes]]:
    """The skeleton and parts as stored before docker.info was inline: docker.info a part of its own."""
    split = split_document(doc, canonical_bytes(doc))
    skeleton = orjson.loads(split.skeleton)
    info_stored = canonical_bytes(skeleton["docker"]["info"])
    info_sha = hashlib.sha256(canonical_bytes(doc["docker"]["info"])).hexdigest()
    skeleton["docker"]["info"] = "\x00" + info_sha
    return canonical_bytes(skeleton), {**split.parts, info_sha: info_stored}


def test_a_snapshot_stored_with_docker_info_as_a_part_reads_back_and_is_a_base(agent_token, snapshot_doc):
    first_doc = _tick(_docker_info(snapshot_doc()), 0)
    skeleton, parts = _old_layout(first_doc)
    DocumentPart.insert({sha: DocumentPart.pack(stored) for sha, stored in parts.items()})
    old = ingest_and_store(copy.deepcopy(first_doc), agent_token[0]).snapshot
    Snapshot.objects.filter(pk=old.pk).update(content=Snapshot.pack_skeleton(skeleton, True))
    _check(old, first_doc)

    # The next push (new layout) finds its parts' places through the old info part.
    doc = _tick(first_doc, 1)
    doc["docker"]["info"]["Plugins"]["Volume"].append("vieux/sshfs:latest")
    before = set(DocumentPart.objects.values_list("sha256", flat=True))
    snapshot = ingest_and_store(copy.deepcopy(doc), agent_token[0]).snapshot
    new = dict(DocumentPart.objects.exclude(sha256__in=before).values_list("sha256", "data"))
    plugins = hashlib.sha256(canonical_bytes(doc["docker"]["info"]["Plugins"])).hexdigest()
    assert plugins in new and DocumentPart.base_of(new[plugins]) in before  # a delta of the old Plugins part
    _check(snapshot, doc)
    _check(old, first_doc)


def test_insert_stores_each_part_once():
    DocumentPart.insert({"a" * 64: DocumentPart.pack(b"[1]"), "b" * 64: DocumentPart.pack(b"[2]")})
    DocumentPart.insert({"b" * 64: DocumentPart.pack(b"[3]"), "c" * 64: DocumentPart.pack(b"[4]")})
    parts = {sha: DocumentPart.unpack(data) for sha, data in DocumentPart.objects.values_list("sha256", "data")}
    assert parts == {"a" * 64: b"[1]", "b" * 64: b"[2]", "c" * 64: b"[4]"}
    assert DocumentPart.stored(["a" * 64, "d" * 64]) == {"a" * 64} and DocumentPart.stored([]) == set()
    DocumentPart.insert({})


def test_a_document_the_standard_library_serialises_is_still_split(snapshot_doc):
    doc = snapshot_doc()
    doc["docker"]["containers"][0]["inspect"]["Config"]["Labels"] = {"big": 2**70, "float": 1.5e16}
    canonical = canonical_bytes(doc)
    assert b'"big":1180591620717411303424' in canonical and b"1.5e+16" in canonical  # json, not orjson
    split = split_document(doc, canonical)
    assert len(split.parts) > 5 and len(split.skeleton) < len(canonical) // 4
    assert hashlib.sha256(canonical_bytes(doc["docker"]["containers"][0]["inspect"])).hexdigest() in split.parts
