"""inventory 0011 and compliance 0019: id arrays as integer[] and back on PostgreSQL; every container, image and
result reads the same, and a column whose ids have used half of integer's range stays bigint[] (issue 13)."""

from __future__ import annotations

import pytest
from django.db import connection

from compliance.models import Result
from inventory.models import Container, ContainerRecord, ContainerSet, Image
from tests.storage.stored import two_judged_hours
from tests.storage.test_snapshot_migration import back_to_the_latest_afterwards, migrate  # noqa: F401

BEFORE = [("compliance", "0018_group_ids_array"), ("inventory", "0010_content_keys_hashed")]
AFTER = [("compliance", "0019_group_ids_int4")]
COLUMNS = {"containerset": "records", "imageset": "records", "networkset": "records", "resultset": "group_ids"}


def _types() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, udt_name FROM information_schema.columns "
                       "WHERE table_name LIKE %s AND column_name IN ('records', 'group_ids')", ["%set"])
        return {table.split("_", 1)[1]: udt for table, udt in cursor.fetchall()}


def _reads() -> tuple[list, list, list]:
    return (
        sorted(Container.objects.values_list("id", "snapshot_id", "name", "state", "position")),
        sorted(Image.objects.values_list("id", "snapshot_id", "image_id")),
        sorted(Result.objects.values_list("id", "evaluation_id", "control", "target_name", "status")),
    )


@pytest.fixture
def estate(agent_token, snapshot_doc) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps the ids as a JSON list")
    two_judged_hours(agent_token[0], snapshot_doc)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards", "estate")
def test_id_arrays_read_the_same_as_bigint_and_as_integer():
    now = _reads()
    assert len(now[0]) > 1 and len(now[2]) > 50
    assert _types() == dict.fromkeys(COLUMNS, "_int4")
    migrate(BEFORE)
    assert _types() == dict.fromkeys(COLUMNS, "_int8")
    migrate(AFTER)
    assert _types() == dict.fromkeys(COLUMNS, "_int4")
    assert _reads() == now


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards", "estate")
def test_a_column_whose_ids_leave_too_little_room_stays_bigint_and_still_takes_new_sets():
    migrate(BEFORE)
    big = ContainerRecord.objects.create(digest="f" * 64, container_id="big", name="big", id=2**30 + 5)
    migrate(AFTER)
    assert _types() == {**dict.fromkeys(COLUMNS, "_int4"), "containerset": "_int8"}
    stored = ContainerSet.objects.create(records=[big.pk])
    assert ContainerSet.objects.get(pk=stored.pk).records == [2**30 + 5]
    # Leave the schema as every other test expects it.
    stored.delete()
    big.delete()
    migrate(BEFORE)
    migrate(AFTER)
    assert _types() == dict.fromkeys(COLUMNS, "_int4")
