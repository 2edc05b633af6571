"""The spool: snapshots waiting for the server, one file each, written atomically and sent oldest first.

A file is only ever named `<collected_at>-<sha256>.json` once it is complete on disk (tmp file, fsync, os.replace,
fsync of the directory), so a crash mid-write leaves at most a `.tmp-*` file that is never taken for a snapshot.
Nothing collected is deleted unsent: a delivered file is removed, a rejected one moves to `rejected/` beside the
server's answer.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from inventory.agent.snapshot import canonical_bytes, sha256_of

NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{64}\.json$")
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600


def spool_name(document: dict[str, Any]) -> str:
    """Names sort in collection order: the compact UTC collected_at, then the document's sha256."""
    collected_at = str(document["agent"]["collected_at"])
    digits = re.sub(r"[^0-9]", "", collected_at.split(".")[0])[:14]
    fraction = (collected_at.split(".", 1)[1] if "." in collected_at else "0").rstrip("Z")
    fraction = re.sub(r"[^0-9].*$", "", fraction).ljust(6, "0")[:6]
    return f"{digits[:8]}T{digits[8:14]}.{fraction}Z-{sha256_of(document)}.json"


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """A directory of snapshots not yet accepted by the server."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.rejected_dir = self.directory / "rejected"

    def ensure(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def add(self, document: dict[str, Any]) -> Path:
        self.ensure()
        path = self.directory / spool_name(document)
        if not path.exists():
            write_atomic(path, canonical_bytes(document))
        return path

    def pending(self) -> list[Path]:
        """Complete snapshots, oldest first; tmp files and anything else in the folder are not snapshots."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.is_file() and NAME_RE.match(p.name))

    def delivered(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        fsync_dir(self.directory)

    def reject(self, path: Path, status: int, answer: bytes) -> Path:
        """Keep the snapshot and the server's answer side by side in rejected/, out of the sending queue."""
        self.rejected_dir.mkdir(exist_ok=True, mode=0o700)
        target = self.rejected_dir / path.name
        answer_doc = {"status": status, "answer": answer.decode("utf-8", errors="replace"), "at": time.time()}
        write_atomic(target.with_suffix(".answer.json"), json.dumps(answer_doc, indent=2).encode())
        os.replace(path, target)
        fsync_dir(self.rejected_dir)
        fsync_dir(self.directory)
        return target

    def clean_stale_tmp(self, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
        """Remove partial writes left by a crash long enough ago that no writer can still be busy with them."""
        removed = []
        if not self.directory.is_dir():
            return removed
        cutoff = time.time() - older_than
        for path in self.directory.glob(f"{TMP_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
        return removed
