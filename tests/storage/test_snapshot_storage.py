"""Snapshots stored by content: the document comes back byte for byte, parts and rows are stored once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import (
    Container,
    ContainerRecord,
    ContainerSet,
    DocumentPart,
    Image,
    Network,
    Snapshot,
)
from inventory.snapshot_format import canonical_bytes, split_document
from tests.conftest import sample_snapshots
from tests.storage.stored import ingest_and_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", sample_snapshots(), ids=lambda p: p.name)
def test_it_reproduces_each_real_sample_byte_for_byte(path, agent_token):
    document = json.loads(path.read_text())
    snapshot = ingest_and_store(document, agent_token[0]).snapshot
    stored = Snapshot.objects.get(pk=snapshot.pk)
    expected = canonical_bytes(json.loads(path.read_text()) | {"docker": document["docker"]})
    assert stored.canonical == expected
    assert hashlib.sha256(stored.canonical).hexdigest() == stored.sha256 and stored.verify()
    assert stored.skeleton is not None and len(stored.skeleton) < 2048  # the large parts are stored apart
    assert DocumentPart.objects.count() > 10


def test_a_repeat_snapshot_stores_only_what_changed(agent_token, snapshot_doc):
    first = ingest_and_store(snapshot_doc(), agent_token[0]).snapshot
    parts, records = DocumentPart.objects.count(), ContainerRecord.objects.count()
    sets = ContainerSet.objects.count()

    repeat = snapshot_doc()
    repeat["agent"]["collected_at"] = "2026-12-01T09:00:00Z"
    repeat["docker"]["info"]["SystemTime"] = "2026-12-01T09:00:00.123456789Z"
    second = ingest_and_store(repeat, agent_token[0]).snapshot
    # No part at all (docker.info is inline in the skeleton, a delta): same containers, same rows, same sets.
    assert DocumentPart.objects.count() == parts
    assert (ContainerRecord.objects.count(), ContainerSet.objects.count()) == (records, sets)
    assert second.container_set_id == first.container_set_id and second.image_set_id == first.image_set_id

    changed = snapshot_doc()
    changed["agent"]["collected_at"] = "2026-12-01T10:00:00Z"
    changed["docker"]["containers"][0]["inspect"]["State"]["Status"] = "exited"
    changed["docker"]["containers"][0]["inspect"]["State"]["Running"] = False
    third = ingest_and_store(changed, agent_token[0]).snapshot
    assert ContainerRecord.objects.count() == records + 1  # the one container whose row changed
    assert ContainerSet.objects.count() == sets + 1  # one row, listing every container's record in order
    listed = ContainerSet.objects.get(pk=third.container_set_id).records
    assert listed[1:] == ContainerSet.objects.get(pk=first.container_set_id).records[1:] and len(listed) == len(
        changed["docker"]["containers"])
    assert third.container_set_id != first.container_set_id
    for snapshot, doc in ((first, snapshot_doc()), (second, repeat), (third, changed)):
        assert Snapshot.objects.get(pk=snapshot.pk).canonical == canonical_bytes(doc)


def test_the_read_models_list_each_snapshots_rows_as_before(agent_token, snapshot_doc):
    doc = snapshot_doc()
    snapshot = ingest_and_store(doc, agent_token[0]).snapshot
    containers = list(Container.objects.filter(snapshot=snapshot).order_by("position"))
    assert [c.container_id for c in containers] == [c["inspect"]["Id"] for c in doc["docker"]["containers"]]
    assert all(c.host_id == snapshot.host_id for c in containers)
    assert [c.running for c in containers] == [bool(c["inspect"]["State"]["Running"]) for c in doc["docker"]["containers"]]
    first = containers[0]
    # The view's id finds the row by its snapshot and position (pk lookups go through the indexes).
    assert Container.objects.get(pk=first.pk).container_id == first.container_id
    assert first.raw == doc["docker"]["containers"][0]["inspect"]
    assert [i.image_id for i in Image.objects.filter(snapshot=snapshot).order_by("position")] == [
        i["inspect"]["Id"] for i in doc["docker"]["images"]
    ]
    assert [n.network_id for n in Network.objects.filter(snapshot=snapshot).order_by("position")] == [
        n["Id"] for n in doc["docker"]["networks"]
    ]
    assert snapshot.containers.count() == len(doc["docker"]["containers"])


def test_an_altered_part_or_skeleton_fails_verification(agent_token, snapshot_doc):
    snapshot = ingest_and_store(snapshot_doc(), agent_token[0]).snapshot
    part = DocumentPart.objects.filter(sha256__in=_references(snapshot)).first()
    stored = DocumentPart.unpack(part.data)
    DocumentPart.objects.filter(pk=part.pk).update(data=DocumentPart.pack(stored[:-1] + b" " + stored[-1:]))
    assert not Snapshot.objects.get(pk=snapshot.pk).verify()


def _references(snapshot: Snapshot) -> list[str]:
    from inventory.snapshot_format import references

    return references(Snapshot.objects.get(pk=snapshot.pk).skeleton or b"")


# Generated documents: any JSON in the places the format leaves open (unicode, big and small numbers, nesting,
# empty lists and objects), around a valid skeleton.
_scalars = (
    st.none() | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
)
_keys = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_keys, children, max_size=6),
    max_leaves=60,
)


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    containers = [
        {"inspect": {"Id": f"{i:064x}", "Name": f"/c{i}", "Extra": draw(_json), "Config": {"Labels": draw(_json)}},
         "top": draw(st.none() | st.dictionaries(_keys, _json, max_size=3))}
        for i in range(draw(st.integers(0, 4)))
    ]
    return {
        "schema": "plimsoll.snapshot/v1",
        "agent": {"version": "t", "collected_at": "2026-12-01T00:00:00Z", "errors": [], "extra": draw(_json)},
        "host": {"hostname": "h", "machine_id": "gen", "x": draw(_json),
                 "mounts": draw(st.lists(st.dictionaries(_keys, _json, max_size=4), max_size=4))},
        "files": [{"path": f"/p{i}", "exists": True, "x": draw(_json)} for i in range(draw(st.integers(0, 4)))],
        "docker": {
            "info": draw(st.dictionaries(_keys, _json, max_size=8)),
            "version": draw(st.dictionaries(_keys, _json, max_size=6)),
            "containers": containers,
            "images": [{"inspect": {"Id": f"sha256:{i:064x}", "Blob": draw(_json)}} for i in range(draw(st.integers(0, 3)))],
            "networks": [{"Id": f"{i:064x}", "Name": f"n{i}", "Blob": draw(_json)} for i in range(draw(st.integers(0, 2)))],
            "plugins": draw(st.lists(_json, max_size=3)),
            "swarm": None,
        },
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents())
def test_split_documents_reassemble_byte_for_byte(document):
    canonical = canonical_bytes(document)
    split = split_document(document, canonical)
    from inventory.snapshot_format import assemble

    assert assemble(split.skeleton, split.parts.__getitem__) == canonical
    for sha, stored in split.parts.items():
        assert hashlib.sha256(assemble(stored, split.parts.__getitem__)).hexdigest() == sha


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(document=documents())
def test_generated_snapshots_stored_and_read_back_byte_for_byte(db, document):
    canonical = canonical_bytes(document)
    sha = hashlib.sha256(canonical).hexdigest()
    snapshot = Snapshot.objects.filter(sha256=sha).first() or ingest_and_store(document, None).snapshot
    stored = Snapshot.objects.get(pk=snapshot.pk)
    assert stored.canonical == canonical and stored.verify()


def test_a_repeat_stores_its_changed_parts_and_skeleton_as_small_deltas(agent_token, snapshot_doc):
    first = ingest_and_store(snapshot_doc(), agent_token[0]).snapshot
    assert Snapshot.content_base(first.content) is None  # a host's first skeleton is stored whole, as a part
    assert DocumentPart.objects.filter(sha256=first.sha256).exists()
    before = set(DocumentPart.objects.values_list("sha256", flat=True))
    docs = []
    for hour in range(1, 4):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"2026-12-01T{8 + hour:02d}:00:00Z"
        doc["docker"]["info"]["SystemTime"] = f"2026-12-01T{8 + hour:02d}:00:00.123456789Z"
        doc["docker"]["containers"][0]["inspect"]["State"]["Pid"] = 1000 + hour
        docs.append((ingest_and_store(doc, agent_token[0]).snapshot, doc))
    new = DocumentPart.objects.exclude(sha256__in=before).values_list("sha256", "data")
    assert new and all(DocumentPart.base_of(data) in before for _, data in new)  # deltas, each against a whole part
    assert all(len(data) < 300 for _, data in new)
    for snapshot, doc in docs:
        stored = Snapshot.objects.get(pk=snapshot.pk)
        assert Snapshot.content_base(stored.content) == first.sha256 and len(stored.content) < 300
        assert stored.canonical == canonical_bytes(doc) and stored.verify()
