"""The data move of inventory 0006 (storage by content), in batches that each commit on their own.

1. move_to_parts: each snapshot's gzip'd canonical document becomes a skeleton and parts stored once by sha256;
   reassembly is checked byte for byte before a snapshot's content is replaced (else it stays whole).
2. chain_snapshots: previous_sha256 of every snapshot, host by host in ingest (id) order.
3. fill_sets: the container, image and network rows of each snapshot become records and sets.
4. rows_to_views: the old per-snapshot tables are dropped and views of the same names created.
Each step skips what is already done, so an interrupted run can be started again. Every step has a reverse.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

import django.db.models.deletion
import orjson
from django.db import migrations, models, transaction

import inventory.models
from inventory.bulk import store_parts
from inventory.models import ROW_ID_SPAN, VIEW_COLUMNS, row_digest
from inventory.snapshot_format import assemble, split_document

BATCH = 100


def _batches(queryset: Any, size: int = BATCH) -> Any:
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk if hasattr(batch[-1], "pk") else batch[-1][0]


def _parse(canonical: bytes) -> Any:
    try:
        return orjson.loads(canonical)
    except orjson.JSONDecodeError:
        return json.loads(canonical)  # integers past 64 bits, which the standard library wrote


def move_to_parts(apps: Any, schema_editor: Any) -> None:
    Snapshot = apps.get_model("inventory", "Snapshot")
    DocumentPart = apps.get_model("inventory", "DocumentPart")
    for batch in _batches(Snapshot.objects.values_list("pk", "content")):
        with transaction.atomic():
            for pk, content in batch:
                canonical = gzip.decompress(bytes(content))
                if canonical[:1] == inventory.models.SKELETON_MARK:
                    continue  # moved already by an earlier run
                split = split_document(_parse(canonical), canonical)
                if not split.parts:
                    continue
                store_parts(DocumentPart, split.parts, inventory.models.DocumentPart.pack)
                content = inventory.models.Snapshot.pack_skeleton(split.skeleton, has_parts=True)
                Snapshot.objects.filter(pk=pk).update(content=content)


def restore_whole(apps: Any, schema_editor: Any) -> None:
    Snapshot = apps.get_model("inventory", "Snapshot")
    DocumentPart = apps.get_model("inventory", "DocumentPart")

    def part(sha: str) -> bytes:
        return inventory.models.DocumentPart.unpack(DocumentPart.objects.values_list("data", flat=True).get(pk=sha))

    for batch in _batches(Snapshot.objects.values_list("pk", "content")):
        with transaction.atomic():
            for pk, content in batch:
                stored = gzip.decompress(bytes(content))
                if stored[:1] == inventory.models.SKELETON_MARK:
                    whole = inventory.models.Snapshot.pack(assemble(stored[1:], part))
                    Snapshot.objects.filter(pk=pk).update(content=whole)


def chain_snapshots(apps: Any, schema_editor: Any) -> None:
    Host = apps.get_model("inventory", "Host")
    Snapshot = apps.get_model("inventory", "Snapshot")
    for host_id in Host.objects.order_by("pk").values_list("pk", flat=True):
        previous = ""
        with transaction.atomic():
            chain = Snapshot.objects.filter(host_id=host_id).order_by("pk").values_list("pk", "sha256", "previous_sha256")
            for pk, sha256, recorded in chain.iterator(chunk_size=2000):
                if recorded != previous:
                    Snapshot.objects.filter(pk=pk).update(previous_sha256=previous)
                previous = sha256



# Frozen here as inventory 0006 wrote them (a migration must not change when the code does): sets with one member
# row per record, found by the digest of their records' digests; inventory 0008 turns members into an array.
def store_set(
    record_model: Any, set_model: Any, member_model: Any, rows: list[dict[str, Any]], digest: Any
) -> int:
    digests = [digest(row) for row in rows]
    set_digest = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    found = set_model.objects.filter(digest=set_digest).values_list("pk", flat=True).first()
    if found is not None:
        return found
    wanted = dict(zip(digests, rows, strict=True))
    records = dict(record_model.objects.filter(digest__in=list(wanted)).values_list("digest", "pk"))
    new = [record_model(digest=d, **row) for d, row in wanted.items() if d not in records]
    if new:
        record_model.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        records = dict(record_model.objects.filter(digest__in=list(wanted)).values_list("digest", "pk"))
    set_model.objects.bulk_create([set_model(digest=set_digest)], ignore_conflicts=True)
    set_id = set_model.objects.filter(digest=set_digest).values_list("pk", flat=True).get()
    if rows and not member_model.objects.filter(set_id=set_id).exists():
        member_model.objects.bulk_create(
            [member_model(set_id=set_id, record_id=records[d], position=i) for i, d in enumerate(digests)],
            batch_size=1000,
        )
    return set_id


def members_view_sql(kind: str, columns: list[str]) -> str:
    """CREATE VIEW of an inventory read model over set member rows, the same SQL on both vendors."""
    selected = ", ".join(f"r.{column}" for column in columns)
    return (
        f"CREATE VIEW inventory_{kind} AS SELECT s.id * {ROW_ID_SPAN} + m.position AS id, s.id AS snapshot_id, "
        f"s.host_id AS host_id, {selected}, m.position AS position "
        f"FROM inventory_snapshot s "
        f"JOIN inventory_{kind}setmember m ON m.set_id = s.{kind}_set_id "
        f"JOIN inventory_{kind}record r ON r.id = m.record_id"
    )

KINDS = (
    ("Container", "container_set", ("container_id", "name", "image", "image_id", "state", "running", "created")),
    ("Image", "image_set", ("image_id", "tags", "created", "size")),
    ("Network", "network_set", ("network_id", "name", "driver")),
)


def fill_sets(apps: Any, schema_editor: Any) -> None:
    Snapshot = apps.get_model("inventory", "Snapshot")
    for batch in _batches(Snapshot.objects.filter(container_set=None).values_list("pk")):
        ids = [row[0] for row in batch]
        with transaction.atomic():
            for name, field, columns in KINDS:
                Row = apps.get_model("inventory", name)
                models_ = [apps.get_model("inventory", f"{name}{suffix}") for suffix in ("Record", "Set", "SetMember")]
                rows: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
                for values in Row.objects.filter(snapshot_id__in=ids).order_by("snapshot_id", "position").values(
                    "snapshot_id", "position", *columns
                ):
                    listed = rows[values.pop("snapshot_id")]
                    if values.pop("position") != len(listed):
                        raise ValueError(f"{name} rows of a snapshot are not at positions 0..n-1")
                    listed.append(values)
                for pk, listed in rows.items():
                    set_id = store_set(*models_, listed, row_digest)
                    Snapshot.objects.filter(pk=pk).update(**{f"{field}_id": set_id})


def rows_to_views(apps: Any, schema_editor: Any) -> None:
    for name, _, _ in KINDS:
        schema_editor.delete_model(apps.get_model("inventory", name))
        schema_editor.execute(members_view_sql(name.lower(), VIEW_COLUMNS[name.lower()]))


def views_to_rows(apps: Any, schema_editor: Any) -> None:
    for name, _, columns in KINDS:
        table = f"inventory_{name.lower()}"
        schema_editor.execute(f"DROP VIEW {table}")
        schema_editor.create_model(apps.get_model("inventory", name))
        listed = ", ".join(columns)
        schema_editor.execute(
            f"INSERT INTO {table} (snapshot_id, host_id, {listed}, position) "
            f"SELECT s.id, s.host_id, {', '.join('r.' + c for c in columns)}, m.position FROM inventory_snapshot s "
            f"JOIN inventory_{name.lower()}setmember m ON m.set_id = s.{name.lower()}_set_id "
            f"JOIN inventory_{name.lower()}record r ON r.id = m.record_id"
        )


def _read_model(name: str, fields: list[tuple[str, Any]], ordering: list[str]) -> migrations.CreateModel:
    return migrations.CreateModel(
        name=name,
        fields=[
            ("id", inventory.models.ViewRowIdField(primary_key=True, serialize=False)),
            *fields,
            ("position", models.PositiveIntegerField()),
            ("snapshot", models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING,
                                           related_name=f"{name.lower()}s", to="inventory.snapshot")),
            ("host", models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING,
                                       related_name=f"{name.lower()}s", to="inventory.host")),
        ],
        options={"managed": False, "db_table": f"inventory_{name.lower()}", "ordering": ordering},
    )


READ_MODELS = [
    _read_model("Container", [
        ("container_id", models.CharField(max_length=128)),
        ("name", models.CharField(max_length=255)),
        ("image", models.CharField(blank=True, max_length=512)),
        ("image_id", models.CharField(blank=True, max_length=128)),
        ("state", models.CharField(blank=True, max_length=32)),
        ("running", models.BooleanField(default=False)),
        ("created", models.DateTimeField(blank=True, null=True)),
    ], ["snapshot_id", "name", "id"]),
    _read_model("Image", [
        ("image_id", models.CharField(max_length=128)),
        ("tags", models.JSONField(blank=True, default=list)),
        ("created", models.DateTimeField(blank=True, null=True)),
        ("size", models.BigIntegerField(blank=True, null=True)),
    ], ["snapshot_id", "image_id"]),
    _read_model("Network", [
        ("network_id", models.CharField(max_length=128)),
        ("name", models.CharField(max_length=255)),
        ("driver", models.CharField(blank=True, max_length=64)),
    ], ["snapshot_id", "name"]),
]
