"""inventory 0009: the snapshot row keeps no copy of its agent errors (read from the skeleton) and back (issue 13)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Snapshot
from inventory.services import ingest_snapshot
from tests.storage.test_snapshot_migration import back_to_the_latest_afterwards, migrate  # noqa: F401

BEFORE = [("inventory", "0008_row_sets_as_arrays")]


def _push(agent, snapshot_doc, hours: int = 3) -> list[int]:
    ids = []
    for hour in range(hours):
        doc = snapshot_doc()
        doc["agent"]["collected_at"] = f"2026-12-01T0{hour}:00:00Z"
        doc["agent"]["errors"] = [{"collector": "audit", "error": f"auditctl missing ({hour})"}] if hour else []
        ids.append(ingest_snapshot(doc, agent).snapshot.pk)
    return ids


@pytest.mark.django_db
def test_agent_errors_are_read_from_the_stored_document(agent_token, snapshot_doc, api_client_for, alice):
    ids = _push(agent_token[0], snapshot_doc)
    assert [Snapshot.objects.get(pk=pk).agent_errors for pk in ids] == [
        [], [{"collector": "audit", "error": "auditctl missing (1)"}],
        [{"collector": "audit", "error": "auditctl missing (2)"}]]
    client = api_client_for(alice)
    with CaptureQueriesContext(connection) as few:
        listed = client.get("/api/v1/snapshots/?ordering=id").json()["results"]
    assert [s["agent_errors"] for s in listed] == [Snapshot.objects.get(pk=pk).agent_errors for pk in ids]
    _push(agent_token[0], lambda: snapshot_doc() | {"host": snapshot_doc()["host"] | {"machine_id": "other"}})
    with CaptureQueriesContext(connection) as more:
        assert len(client.get("/api/v1/snapshots/").json()["results"]) == 6
    assert len(more) <= len(few) + 1  # the errors of a page are read in two queries, not two per snapshot


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_the_column_comes_back_filled_and_goes_again(agent_token, snapshot_doc):
    ids = _push(agent_token[0], snapshot_doc)
    expected = {pk: Snapshot.objects.get(pk=pk).agent_errors for pk in ids}
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    assert dict(old.get_model("inventory", "Snapshot").objects.values_list("pk", "agent_errors")) == expected
    migrate([("inventory", "0009_snapshot_row")])
    assert {pk: Snapshot.objects.get(pk=pk).agent_errors for pk in ids} == expected
