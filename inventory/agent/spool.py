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
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from inventory.agent.snapshot import canonical_bytes, sha256_of

NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{64}\.json$")
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600


RFC3339_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2}))$"
)


class SpoolError(ValueError):
    """A document that cannot be spooled: it would get a name the spool never sends."""


def collected_at_utc(document: Any) -> datetime:
    """agent.collected_at as a UTC datetime; SpoolError unless it is an RFC 3339 timestamp with date, time, offset."""
    agent = document.get("agent") if isinstance(document, dict) else None
    value = agent.get("collected_at") if isinstance(agent, dict) else None
    if value is None:
        raise SpoolError("agent.collected_at is missing: a snapshot needs an RFC 3339 agent.collected_at")
    match = RFC3339_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise SpoolError(
            f"agent.collected_at {value!r} is not an RFC 3339 timestamp (like 2026-12-01T10:00:00Z): "
            "date, time and offset are all needed"
        )
    second = min(int(match["second"]), 59)  # a leap second sorts with the second before it
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    offset = UTC
    if not match["utc"]:
        delta = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
        offset = timezone(-delta if match["sign"] == "-" else delta)
    try:
        local = datetime.fromisoformat(f"{match['date']}T{match['time']}:{second:02d}.{fraction}")
    except ValueError as exc:
        raise SpoolError(f"agent.collected_at {value!r} is not a valid date and time: {exc}") from None
    return local.replace(tzinfo=offset).astimezone(UTC)


def spool_name(document: dict[str, Any]) -> str:
    """Names sort in collection order: the compact UTC collected_at, then the document's sha256."""
    return f"{collected_at_utc(document):%Y%m%dT%H%M%S.%f}Z-{sha256_of(document)}.json"


def is_snapshot_name(name: str) -> bool:
    return NAME_RE.match(name) is not None


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

    def strays(self) -> list[Path]:
        """Files in the folder that are neither snapshots nor partial writes: never sent, so worth a word."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p
            for p in self.directory.iterdir()
            if p.is_file() and not is_snapshot_name(p.name) and not p.name.startswith(TMP_PREFIX)
        )

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
