import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from inventory.agent import spool as spool_module
from inventory.agent.snapshot import canonical_bytes, sha256_of
from inventory.agent.spool import Spool, SpoolError, spool_name, write_atomic


def doc(collected_at: str, n: int = 0) -> dict[str, Any]:
    return {"schema": "plimsoll.snapshot/v1", "agent": {"collected_at": collected_at}, "n": n}


def test_it_names_files_so_that_they_sort_in_collection_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    late = spool.add(doc("2026-12-01T10:00:00.000002Z"))
    early = spool.add(doc("2026-12-01T09:59:59.999999Z"))
    middle = spool.add(doc("2026-12-01T10:00:00Z"))

    assert spool.pending() == [early, middle, late]
    assert early.name == f"20261201T095959.999999Z-{sha256_of(doc('2026-12-01T09:59:59.999999Z'))}.json"


def test_it_writes_the_canonical_document_and_adds_the_same_document_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    document = doc("2026-12-01T10:00:00.123456Z")

    first = spool.add(document)
    second = spool.add(document)

    assert first == second
    assert first.read_bytes() == canonical_bytes(document)
    assert json.loads(first.read_bytes()) == document
    assert len(spool.pending()) == 1
    assert oct(first.stat().st_mode & 0o777) == "0o600"


def test_it_leaves_no_snapshot_when_a_write_crashes_midway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(tmp_path)
    spool.add(doc("2026-12-01T09:00:00Z"))

    def crash(fd: int) -> None:
        raise OSError("disk went away during fsync")

    monkeypatch.setattr(spool_module.os, "fsync", crash)
    with pytest.raises(OSError, match="disk went away"):
        spool.add(doc("2026-12-01T10:00:00Z"))

    assert [p.name[:15] for p in spool.pending()] == ["20261201T090000"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("2026")) == []


def test_it_never_counts_a_partial_file_left_by_a_killed_writer(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    name = spool_name(doc("2026-12-01T10:00:00Z"))
    (tmp_path / f".tmp-{name}.4242").write_bytes(b'{"schema": "plimsoll.snap')
    (tmp_path / "notes.txt").write_text("not a snapshot")

    assert spool.pending() == []


def test_it_cleans_only_stale_partial_files(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    stale = tmp_path / ".tmp-old.json.1"
    fresh = tmp_path / ".tmp-new.json.2"
    stale.write_bytes(b"{")
    fresh.write_bytes(b"{")
    an_hour_ago = time.time() - 7200
    os.utime(stale, (an_hour_ago, an_hour_ago))

    assert spool.clean_stale_tmp() == [stale]
    assert fresh.exists()


def test_it_replaces_an_existing_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")

    write_atomic(target, b"new")

    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_it_moves_a_rejected_snapshot_aside_with_the_server_answer(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    path = spool.add(doc("2026-12-01T10:00:00Z"))
    body = path.read_bytes()

    target = spool.reject(path, 400, b'{"error": "invalid"}')

    assert spool.pending() == []
    assert target == tmp_path / "rejected" / path.name
    assert target.read_bytes() == body
    answer = json.loads((tmp_path / "rejected" / path.name.replace(".json", ".answer.json")).read_text())
    assert answer["status"] == 400
    assert json.loads(answer["answer"]) == {"error": "invalid"}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"agent": {}}, "agent.collected_at is missing"),
        ({}, "agent.collected_at is missing"),
        ({"agent": {"collected_at": "2026-12-01"}}, "not an RFC 3339 timestamp"),
        ({"agent": {"collected_at": "2026-12-01T10:00:00"}}, "not an RFC 3339 timestamp"),
        ({"agent": {"collected_at": 1764583200}}, "not an RFC 3339 timestamp"),
        ({"agent": {"collected_at": "2026-13-01T10:00:00Z"}}, "not a valid date and time"),
    ],
)
def test_it_refuses_to_spool_a_document_without_an_rfc3339_collected_at(
    tmp_path: Path, document: dict[str, Any], reason: str
) -> None:
    spool = Spool(tmp_path)

    with pytest.raises(SpoolError, match=reason) as raised:
        spool.add(document)

    assert "agent.collected_at" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "collected_at",
    ["2026-12-01T11:00:00+01:00", "2026-12-01t10:00:00z", "2026-12-01 05:30:00-04:30", "2026-12-01T10:00:00.0000001Z"],
)
def test_it_names_files_by_utc_time_whatever_the_offset(tmp_path: Path, collected_at: str) -> None:
    path = Spool(tmp_path).add(doc(collected_at))

    assert path.name.startswith("20261201T100000.000000Z-")
    assert Spool(tmp_path).pending() == [path]


def test_it_lists_files_it_will_never_send(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    good = spool.add(doc("2026-12-01T10:00:00Z"))
    stray = tmp_path / "20261201-abc.json"
    stray.write_text("{}")
    (tmp_path / ".tmp-partial.json.123").write_text("{")
    (tmp_path / "rejected").mkdir()

    assert spool.strays() == [stray]
    assert spool.pending() == [good]
