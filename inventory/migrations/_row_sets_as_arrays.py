"""The data move of inventory 0008: set members become an array column of the set (issue 13, docs/storage.md).

Forwards: each set's member rows (set, record, position) become its `records` array, in batches that commit on their
own; then, in one short transaction holding the set tables, the sets written meanwhile are filled and the views are
rebuilt over the arrays (the member tables are dropped by the next operation). Backwards: member rows are rebuilt
from the arrays, the views read them again, and each set gets back its digest (sets of equal lists, which the new
code may write for two hosts, are merged first: the digest is unique).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction

from inventory.migrations._storage_by_content import members_view_sql
from inventory.rowsets import ROW_ID_SPAN, VIEW_COLUMNS

KINDS = ("container", "image", "network")
BATCH = 500


def _fill(apps: Any, kind: str, only_missing: bool = True) -> None:
    Set = apps.get_model("inventory", f"{kind.capitalize()}Set")
    Member = apps.get_model("inventory", f"{kind.capitalize()}SetMember")
    last = 0
    while True:
        sets = Set.objects.filter(pk__gt=last).order_by("pk")
        if only_missing:
            sets = sets.filter(records=None)
        ids = list(sets.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        listed: dict[int, list[int]] = {pk: [] for pk in ids}
        with transaction.atomic():
            members = Member.objects.filter(set_id__in=ids).order_by("set_id", "position")
            for set_id, record_id, position in members.values_list("set_id", "record_id", "position"):
                if position != len(listed[set_id]):
                    raise ValueError(f"{kind} set {set_id} has no member at position {len(listed[set_id])}")
                listed[set_id].append(record_id)
            for pk, records in listed.items():
                Set.objects.filter(pk=pk).update(records=records)
        last = ids[-1]


def fill_records(apps: Any, schema_editor: Any) -> None:
    for kind in KINDS:
        _fill(apps, kind)


def arrays_view_sql(kind: str, vendor: str) -> str:
    """The views as this migration creates them (inventory.rowsets.view_sql at the time, frozen here)."""
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


def views_over_arrays(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    with transaction.atomic():
        if vendor == "postgresql":
            # Pushes of code still writing members wait here (briefly), so no set is left without its array.
            tables = ", ".join(f"inventory_{kind}set, inventory_{kind}setmember" for kind in KINDS)
            schema_editor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        for kind in KINDS:
            _fill(apps, kind)
            schema_editor.execute(f"DROP VIEW inventory_{kind}")
            schema_editor.execute(arrays_view_sql(kind, vendor))


def views_over_members(apps: Any, schema_editor: Any) -> None:
    for kind in KINDS:
        schema_editor.execute(f"DROP VIEW inventory_{kind}")
        schema_editor.execute(members_view_sql(kind, VIEW_COLUMNS[kind]))


def fill_members(apps: Any, schema_editor: Any) -> None:
    for kind in KINDS:
        Set = apps.get_model("inventory", f"{kind.capitalize()}Set")
        Member = apps.get_model("inventory", f"{kind.capitalize()}SetMember")
        last = 0
        while True:
            batch = list(Set.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "records")[:BATCH])
            if not batch:
                break
            with transaction.atomic():
                done = set(Member.objects.filter(set_id__in=[pk for pk, _ in batch]).values_list("set_id", flat=True))
                Member.objects.bulk_create([
                    Member(set_id=pk, record_id=record_id, position=position)
                    for pk, records in batch if pk not in done
                    for position, record_id in enumerate(records or [])
                ], batch_size=1000)
            last = batch[-1][0]


def fill_digests(apps: Any, schema_editor: Any) -> None:
    """Each set's digest again (sha256 of its records' digests in order); sets of equal lists merged into the first."""
    Snapshot = apps.get_model("inventory", "Snapshot")
    for kind in KINDS:
        Set = apps.get_model("inventory", f"{kind.capitalize()}Set")
        Record = apps.get_model("inventory", f"{kind.capitalize()}Record")
        first: dict[str, int] = {}
        last = 0
        while True:
            batch = list(Set.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "records")[:BATCH])
            if not batch:
                break
            wanted = {record_id for _, records in batch for record_id in records or []}
            digests = dict(Record.objects.filter(pk__in=wanted).values_list("pk", "digest"))
            with transaction.atomic():
                for pk, records in batch:
                    digest = hashlib.sha256("\n".join(digests[r] for r in records or []).encode()).hexdigest()
                    keeper = first.setdefault(digest, pk)
                    if keeper == pk:
                        Set.objects.filter(pk=pk).update(digest=digest)
                    else:
                        Snapshot.objects.filter(**{f"{kind}_set_id": pk}).update(**{f"{kind}_set_id": keeper})
                        Set.objects.filter(pk=pk).delete()
            last = batch[-1][0]
