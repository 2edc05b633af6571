"""compliance 0018: result sets' group ids as bigint[] and back; every result reads the same (issue 13)."""

from __future__ import annotations

import pytest
from django.db import connection

from compliance.models import Result, ResultSet
from tests.storage.stored import two_judged_hours
from tests.storage.test_snapshot_migration import back_to_the_latest_afterwards, migrate  # noqa: F401

PACKED = [("compliance", "0017_content_keys_hashed")]
ARRAYS = [("compliance", "0018_group_ids_array")]
COLUMNS = ("id", "evaluation_id", "control", "target_kind", "target_name", "status", "message")


def _column_type() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'compliance_resultset' "
                       "AND column_name = 'group_ids'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_results_read_the_same_packed_and_as_arrays(agent_token, snapshot_doc):
    two_judged_hours(agent_token[0], snapshot_doc)
    now = sorted(Result.objects.values_list(*COLUMNS))
    assert len(now) > 50 and ResultSet.objects.count() == 2
    assert all(len(ids) > 1 for ids in ResultSet.objects.values_list("group_ids", flat=True))
    if connection.vendor == "postgresql":
        assert _column_type() == "ARRAY"
    old = migrate(PACKED).loader.project_state(PACKED).apps
    assert sorted(old.get_model("compliance", "Result").objects.values_list(*COLUMNS)) == now
    if connection.vendor == "postgresql":
        assert _column_type() == "bytea"
    migrate(ARRAYS)
    assert sorted(Result.objects.values_list(*COLUMNS)) == now
