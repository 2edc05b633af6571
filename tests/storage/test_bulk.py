"""inventory.bulk: keys and rows sent to PostgreSQL as one parameter each (a text[] literal, a JSON array) come back
as they were, whatever characters, bytes, times and sizes they hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import DataError, connection, transaction

from inventory.bulk import ids_by_key, insert_rows, store_set, text_array
from inventory.models import ContainerRecord, ContainerSet, DocumentPart, ImageRecord, row_digest

pytestmark = pytest.mark.django_db

ODD = ["", "NULL", "a,b", '"quoted"', "back\\slash", "{braces}", "sp ace", "\u00e9\u2028\U0001f433", "tab\tnew\nline"]


def test_a_text_array_literal_carries_any_string():
    if connection.vendor != "postgresql":
        pytest.skip("an array literal of PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array(ODD)])
        assert cursor.fetchone()[0] == ODD


def test_rows_come_back_as_they_were_inserted():
    created = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    images = {
        f"k{i}": {"image_id": name, "tags": [name, {"odd": [1, 2.5, None]}], "created": created if i else None,
                  "size": 2**63 - 1 if i else None}
        for i, name in enumerate(ODD)
    }
    returned = insert_rows(ImageRecord, "digest", images)
    stored = {r.digest: r for r in ImageRecord.objects.all()}
    assert set(stored) == set(images)
    if connection.vendor == "postgresql":  # RETURNING: SQLite's bulk_create gives no ids
        assert returned == {digest: row.pk for digest, row in stored.items()}
    for key, row in images.items():
        assert {field: getattr(stored[key], field) for field in row} == row
    # Inserting them again changes nothing (ON CONFLICT DO NOTHING) and returns none of them.
    assert insert_rows(ImageRecord, "digest", images) == {}
    assert ImageRecord.objects.count() == len(images)


def test_document_parts_keep_their_bytes():
    parts = {f"{i:064x}": bytes(range(256)) * i + b"\x00\\x" for i in range(1, 5)}
    insert_rows(DocumentPart, "sha256", {sha: {"data": data} for sha, data in parts.items()})
    assert {sha: bytes(data) for sha, data in DocumentPart.objects.values_list("sha256", "data")} == parts
    assert set(ids_by_key(DocumentPart, "sha256", [*parts, "f" * 64])) == set(parts)


def test_a_size_past_64_bits_is_refused_and_nothing_is_stored():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores integers up to 64 bits and refuses more in its own driver")
    row = {"image_id": "x", "tags": [], "created": None, "size": 2**64}
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(ImageRecord, "digest", {"k": row})
    assert not ImageRecord.objects.exists()


@pytest.mark.parametrize("first", [False, True])
def test_a_set_finds_records_stored_before_whichever_goes_first(first):
    rows = [{"container_id": f"{i:064x}", "name": f"c{i}", "image": "nginx", "image_id": "sha256:1", "state": "running",
             "running": True, "created": datetime(2026, 1, 1, tzinfo=UTC)} for i in range(4)]
    store_set(ContainerRecord, ContainerSet, rows[:2], row_digest)
    set_id = store_set(ContainerRecord, ContainerSet, rows, row_digest, first=first)
    listed = ContainerSet.objects.get(pk=set_id).records
    by_digest = dict(ContainerRecord.objects.values_list("digest", "pk"))
    assert listed == [by_digest[row_digest(row)] for row in rows]
    assert ContainerRecord.objects.count() == 4
