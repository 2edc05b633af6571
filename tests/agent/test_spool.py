import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from inventory.agent import spool as spool_module
from inventory.agent.snapshot import canonical_bytes, sha256_of
from inventory.agent.spool import Spool, spool_name, write_atomic


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
