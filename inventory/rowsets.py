"""The container, image and network rows of snapshots, stored by change (docs/storage.md).

A record is one row's content, stored once (unique by the digest of its values). A set is the ordered list of the
records a snapshot holds, as one array column: a snapshot whose rows did not change since the host's previous one
points to the same set and adds nothing. The read models (inventory.models.Container, Image, Network) are views that
unfold a snapshot's set into rows; a row's id is the snapshot id times ROW_ID_SPAN plus its position.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson
from django.db import models

ROW_ID_SPAN = 1 << 20


def row_digest(row: dict[str, Any]) -> str:
    """The content key of an inventory record: sha256 of its field values as canonical JSON (datetimes in ISO 8601).

    The canonical JSON is the standard library's (sorted keys, no spaces, UTF-8). orjson writes the same bytes for
    strings, booleans, null, integers within 64 bits, aware or naive datetimes and lists of strings, five times
    faster; anything else (a float in an image's tags, an integer past 64 bits, a lone surrogate) goes the
    standard way, so a record's digest never depends on which path wrote it (tests/storage/test_row_digest.py)."""
    if all(type(v) in _PLAIN or (type(v) is list and all(type(x) is str for x in v)) for v in row.values()):
        try:
            return hashlib.sha256(orjson.dumps(row, option=orjson.OPT_SORT_KEYS)).hexdigest()
        except orjson.JSONEncodeError:
            pass
    return hashlib.sha256(_standard_json(row).encode()).hexdigest()


def _standard_json(row: dict[str, Any]) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=_iso)


_PLAIN = frozenset({str, bool, int, type(None), datetime})


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


class ViewRowIdField(models.BigIntegerField):
    """The id of a row of an inventory view (snapshot id * ROW_ID_SPAN + position); `pk=...` finds it by index."""


@ViewRowIdField.register_lookup
class ViewRowIdExact(models.lookups.Exact):
    """id = n, written as snapshot_id = n // SPAN AND position = n % SPAN, which the view resolves through indexes."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not isinstance(self.rhs, int) or not hasattr(self.lhs, "alias"):
            return super().as_sql(compiler, connection)
        qn = compiler.quote_name_unless_alias
        alias = qn(self.lhs.alias)
        snapshot_id, position = divmod(self.rhs, ROW_ID_SPAN)
        return f"({alias}.{qn('snapshot_id')} = %s AND {alias}.{qn('position')} = %s)", [snapshot_id, position]


class RecordIdsField(models.Field):
    """An ordered list of record ids: `integer[]` on PostgreSQL (4 bytes an id; inventory 0011, compliance 0019), a
    JSON array elsewhere (SQLite).

    Only stored and read whole; the views unfold it (`unnest ... WITH ORDINALITY`, SQLite's `json_each`). Written
    as an array literal, which a column left as `bigint[]` (its ids past half of integer's range when migrated)
    takes as well."""

    description = "ordered list of record ids"

    def db_type(self, connection: Any) -> str:
        return "integer[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None:
            return None
        return json.loads(value) if isinstance(value, str) else list(value)

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value) if isinstance(value, str) else list(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        ids = ",".join(str(int(record_id)) for record_id in value)
        # PostgreSQL's array literal, one parameter: psycopg dumps a list element by element (0.17 against 0.11 ms
        # for 200 ids), and it is what the column's type takes.
        return f"{{{ids}}}" if connection.vendor == "postgresql" else f"[{ids}]"


class ContainerRecord(models.Model):
    """One container row's content (what pages and filters read), stored once for every snapshot that saw it so."""

    digest = models.CharField(max_length=64)  # unique: common/hash_unique.py (inventory 0010)
    container_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    image = models.CharField(max_length=512, blank=True)
    image_id = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=32, blank=True)
    running = models.BooleanField(default=False)
    created = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class RowSet(models.Model):
    """A snapshot's rows of one kind: its records' ids in position order. Shared by the host's snapshots for as
    long as the list does not change (ingest compares it with the host's previous snapshot's)."""

    records = RecordIdsField(null=True, default=list)  # null only for sets written before inventory 0008 filled them

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk} ({len(self.records or [])})"


class ContainerSet(RowSet):
    """The containers of a snapshot, by position."""


class ImageRecord(models.Model):
    """One image row's content, stored once."""

    digest = models.CharField(max_length=64)  # unique: common/hash_unique.py (inventory 0010)
    image_id = models.CharField(max_length=128)
    tags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.image_id[:19]


class ImageSet(RowSet):
    """The images of a snapshot, by position."""


class NetworkRecord(models.Model):
    """One network row's content, stored once."""

    digest = models.CharField(max_length=64)  # unique: common/hash_unique.py (inventory 0010)
    network_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.name


class NetworkSet(RowSet):
    """The networks of a snapshot, by position."""


VIEW_COLUMNS = {
    "container": ["container_id", "name", "image", "image_id", "state", "running", "created"],
    "image": ["image_id", "tags", "created", "size"],
    "network": ["network_id", "name", "driver"],
}


def view_sql(kind: str, vendor: str) -> str:
    """CREATE VIEW of an inventory read model (kind: container, image, network): each snapshot's set unfolded."""
    selected = ", ".join(f"r.{column}" for column in VIEW_COLUMNS[kind])
    if vendor == "postgresql":
        unfold = ("CROSS JOIN LATERAL (SELECT u.record_id, (u.n - 1)::integer AS position "
                  "FROM unnest(rs.records) WITH ORDINALITY AS u(record_id, n)) m")
        record_id, position = "m.record_id", "m.position"
    else:
        unfold, record_id, position = "JOIN json_each(rs.records) m", "m.value", "m.key"
    return (
        f"CREATE VIEW inventory_{kind} AS SELECT s.id * {ROW_ID_SPAN} + {position} AS id, s.id AS snapshot_id, "
        f"s.host_id AS host_id, {selected}, {position} AS position "
        f"FROM inventory_snapshot s "
        f"JOIN inventory_{kind}set rs ON rs.id = s.{kind}_set_id "
        f"{unfold} "
        f"JOIN inventory_{kind}record r ON r.id = {record_id}"
    )
