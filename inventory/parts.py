"""Snapshot documents stored by content: parts (inspect objects, networks, large docker info members...) once each,
as zlib data or deltas against an earlier part of the same place (docs/storage.md)."""

from __future__ import annotations

import zlib
from typing import Any

from django.db import models

from inventory.bulk import ids_by_key, insert_rows
from inventory.snapshot_format import assemble, references

SKELETON_MARK = b"\x00"
# The first byte of a part's data or a snapshot's content stored as a delta (zlib data starts 0x78, gzip 0x1f).
DELTA_MARK = b"\x01"


def deflate_against(data: bytes, base: bytes) -> bytes:
    """Raw deflate of `data` with `base` as the preset dictionary: what `data` shares with `base` costs a few bytes."""
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=base or b" ")
    return deflater.compress(data) + deflater.flush()


def inflate_against(data: bytes, base: bytes) -> bytes:
    inflater = zlib.decompressobj(-15, zdict=base or b" ")
    return inflater.decompress(data) + inflater.flush()

# The PostgreSQL advisory lock between ingest (shared) and retention's sweep of unreferenced parts (exclusive).
STORAGE_LOCK = 0x706C6D73


class DocumentPart(models.Model):
    """A large part of snapshot documents (an inspect object, a network, docker info's plugins...), stored once by
    content.

    `sha256` is that of the part's canonical bytes; `data` is its stored form (canonical bytes in which its own large
    parts are references), zlib-compressed. Immutable; removed only by retention once no snapshot refers to it.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    data = models.BinaryField()

    class Meta:
        verbose_name = "document part"

    def __str__(self) -> str:
        return self.sha256

    @staticmethod
    def pack(stored: bytes) -> bytes:
        # Level 1: a third faster than 6 for about 5% more bytes, paid once per part stored whole; a delta's size
        # does not depend on it (its base's stored form is the dictionary).
        return zlib.compress(stored, 1)

    @classmethod
    def stored(cls, shas: list[str]) -> set[str]:
        """Which of these parts are stored, in one query (inventory.bulk.ids_by_key)."""
        return set(ids_by_key(cls, "sha256", shas))

    @classmethod
    def insert(cls, rows: dict[str, bytes]) -> None:
        """Store parts (sha256 -> data) in one statement; a part stored already (maybe by a concurrent push) is left
        as it is: the same content, whole or as a delta (inventory.bulk.insert_rows: in sha256 order, never a
        deadlock between two pushes)."""
        insert_rows(cls, "sha256", {sha: {"data": data} for sha, data in rows.items()})

    @staticmethod
    def pack_delta(stored: bytes, base_sha: str, base: bytes) -> bytes:
        """A part stored as a delta: DELTA_MARK, the base part's sha256 (32 bytes), then the stored form deflated
        with the base's stored form as the preset dictionary. A base is never a delta itself."""
        return DELTA_MARK + bytes.fromhex(base_sha) + deflate_against(stored, base)

    @staticmethod
    def base_of(data: bytes | memoryview) -> str | None:
        """The sha256 of the part `data` is a delta against; None for a part stored whole."""
        head = bytes(data[:33])
        return head[1:].hex() if head[:1] == DELTA_MARK else None

    @classmethod
    def unpack(cls, data: bytes | memoryview, bases: dict[str, bytes] | None = None) -> bytes:
        """The stored form of a part from its data; a delta's base comes from `bases` or the database."""
        data = bytes(data)
        base_sha = cls.base_of(data)
        if base_sha is None:
            return zlib.decompress(data)
        base = bases[base_sha] if bases and base_sha in bases else cls.keyframes({base_sha})[base_sha]
        return inflate_against(data[33:], base)

    @classmethod
    def keyframes(cls, shas: set[str]) -> dict[str, bytes]:
        """The stored forms of these parts, each stored whole (the bases of deltas), in one query."""
        found: dict[str, bytes] = {}
        if shas:
            for sha, data in cls.objects.filter(sha256__in=shas).values_list("sha256", "data"):
                data = bytes(data)
                if data[:1] == DELTA_MARK:
                    raise MissingPart(sha)  # never written so: a base is stored whole
                found[sha] = zlib.decompress(data)
        if missing := shas - found.keys():
            raise MissingPart(sorted(missing)[0])
        return found

    @classmethod
    def unpack_rows(cls, rows: Any, skip_broken: bool = False) -> dict[str, bytes]:
        """sha256 -> stored form of (sha256, data) rows; the bases of deltas among them fetched in one query.

        With `skip_broken`, a row whose base is missing, or whose bytes (or its base's) no longer decompress, is left
        out (verification reports it)."""
        rows = [(sha, bytes(data)) for sha, data in rows]

        def whole(pairs: Any) -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for sha, data in pairs:
                data = bytes(data)
                if data[:1] == DELTA_MARK:
                    continue
                try:
                    found[sha] = zlib.decompress(data)
                except zlib.error:
                    if not skip_broken:
                        raise
            return found

        bases = whole(rows)
        wanted = {base for _, data in rows if (base := cls.base_of(data)) is not None} - bases.keys()
        if wanted:
            try:
                bases.update(cls.keyframes(wanted))
            except (MissingPart, zlib.error):
                if not skip_broken:
                    raise
                bases.update(whole(cls.objects.filter(sha256__in=wanted).values_list("sha256", "data")))
        out: dict[str, bytes] = {}
        for sha, data in rows:
            base_sha = cls.base_of(data)
            if base_sha is None:
                if sha in bases:
                    out[sha] = bases[sha]
            elif base_sha in bases:
                try:
                    out[sha] = inflate_against(data[33:], bases[base_sha])
                except zlib.error:
                    if not skip_broken:
                        raise
            elif not skip_broken:
                raise MissingPart(base_sha)
        return out

    @classmethod
    def stored_forms(cls, root: bytes) -> dict[str, bytes]:
        """The stored form of every part `root` refers to, at any depth: one query per level of nesting (and one
        more for the bases of the deltas of a level)."""
        found: dict[str, bytes] = {}
        wanted = set(references(root))
        while wanted:
            level = cls.unpack_rows(cls.objects.filter(sha256__in=wanted).values_list("sha256", "data"))
            missing = wanted - level.keys()
            if missing:
                raise MissingPart(sorted(missing)[0])
            found.update(level)
            wanted = {sha for stored in level.values() for sha in references(stored)} - found.keys()
        return found

    @classmethod
    def canonical(cls, content: bytes) -> bytes:
        """The canonical bytes of a snapshot's decompressed content: the skeleton with its parts, or the whole."""
        if content[:1] != SKELETON_MARK:
            return content
        root = content[1:]
        return assemble(root, cls.stored_forms(root).__getitem__)


class MissingPart(Exception):
    """A snapshot refers to a document part that is not stored: its evidence cannot be reassembled."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"document part {sha256} is missing")
        self.sha256 = sha256
