"""inventory 0008: set members become an array on the set and back, losing no row of any snapshot (issue 13)."""

from __future__ import annotations

import json

import pytest

from inventory.models import Container, ContainerRecord, ContainerSet, Image, Network, Snapshot
from inventory.services import ingest_snapshot, sweep_storage
from tests.conftest import sample_snapshots
from tests.storage.test_snapshot_migration import back_to_the_latest_afterwards, migrate  # noqa: F401

BEFORE = [("inventory", "0007_storage_deltas")]
AFTER = [("inventory", "0008_row_sets_as_arrays")]
COLUMNS = {
    "Container": ("container_id", "name", "image", "image_id", "state", "running", "created", "position"),
    "Image": ("image_id", "tags", "created", "size", "position"),
    "Network": ("network_id", "name", "driver", "position"),
}


def _rows(apps) -> dict[str, list[tuple]]:
    return {
        name: sorted(apps.get_model("inventory", name).objects.values_list("id", "snapshot_id", "host_id", *columns))
        for name, columns in COLUMNS.items()
    }


def _push_history(agent) -> list[int]:
    """Two hosts, three snapshots each: a repeat, then one container exited (a new set)."""
    ids = []
    for index, path in enumerate(sample_snapshots()[:2]):
        for hour in range(3):
            doc = json.loads(path.read_text())
            doc["host"]["machine_id"] = f"machine-{index}"
            doc["agent"]["collected_at"] = f"2026-11-01T0{hour}:00:00Z"
            if hour == 2 and doc["docker"]["containers"]:
                doc["docker"]["containers"][0]["inspect"]["State"].update(Status="exited", Running=False)
            ids.append(ingest_snapshot(doc, agent).snapshot.pk)
    return ids


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_rows_survive_the_move_to_arrays_and_back(agent_token):
    from django.apps import apps as live

    ids = _push_history(agent_token[0])
    now = _rows(live)
    assert now["Container"] and now["Image"] and now["Network"]
    sets = Snapshot.objects.values_list("container_set", "image_set", "network_set")
    assert len(set(sets)) < len(ids)  # repeats share their sets

    listed = sum(len(records) for records in ContainerSet.objects.values_list("records", flat=True))
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    assert _rows(old) == now
    assert old.get_model("inventory", "ContainerSetMember").objects.count() == listed
    digests = list(old.get_model("inventory", "ContainerSet").objects.values_list("digest", flat=True))
    assert len(digests) == len(set(digests)) and all(len(d) == 64 for d in digests)

    new = migrate(AFTER).loader.project_state(AFTER).apps
    assert _rows(new) == now  # (equal image and network sets of the two hosts were merged on the way back)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_equal_sets_of_two_hosts_merge_when_going_back(agent_token):
    doc = json.loads(sample_snapshots()[0].read_text())
    for machine in ("a", "b"):
        doc["host"]["machine_id"] = machine
        ingest_snapshot(doc | {"agent": doc["agent"] | {"collected_at": f"2026-11-01T00:0{len(machine)}:00Z"}},
                        agent_token[0])
        doc = json.loads(sample_snapshots()[0].read_text())
    from django.apps import apps as live

    now = _rows(live)
    assert ContainerSet.objects.count() == 2  # one per host: each host reuses only its own previous set
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    assert old.get_model("inventory", "ContainerSet").objects.count() == 1
    assert _rows(old) == now


@pytest.mark.django_db
def test_a_host_reuses_its_previous_set_and_sweeping_keeps_listed_records(agent_token, snapshot_doc):
    first = ingest_snapshot(snapshot_doc(), agent_token[0]).snapshot
    changed = snapshot_doc()
    changed["agent"]["collected_at"] = "2026-12-01T10:00:00Z"
    changed["docker"]["containers"][0]["inspect"]["State"].update(Status="exited", Running=False)
    second = ingest_snapshot(changed, agent_token[0]).snapshot
    back = snapshot_doc()
    back["agent"]["collected_at"] = "2026-12-01T11:00:00Z"
    third = ingest_snapshot(back, agent_token[0]).snapshot
    # Back to the first list: a new set (only the previous snapshot's is compared), the same records.
    assert len({first.container_set_id, second.container_set_id, third.container_set_id}) == 3
    assert ContainerSet.objects.get(pk=third.container_set_id).records == ContainerSet.objects.get(
        pk=first.container_set_id).records
    records = ContainerRecord.objects.count()
    assert sweep_storage()["containerrecord"] == 0 and ContainerRecord.objects.count() == records
    Snapshot.objects.filter(pk=second.pk).delete()
    swept = sweep_storage()
    assert swept["container_set"] == 1 and swept["containerrecord"] == 1  # the exited container's record
    assert [c.container_id for c in Container.objects.filter(snapshot=third).order_by("position")] == [
        c["inspect"]["Id"] for c in back["docker"]["containers"]]
    assert Image.objects.filter(snapshot=third).count() == len(back["docker"]["images"])
    assert Network.objects.filter(snapshot=third).count() == len(back["docker"]["networks"])
