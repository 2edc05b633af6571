"""inventory 0006: existing snapshots move to storage by content (parts, records, sets, chain) and back, losing
nothing: every document byte for byte, every container, image and network row."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory.snapshot_format import canonical_bytes
from tests.conftest import sample_snapshots

BEFORE = [("inventory", "0005_agent_token_binding")]
AFTER = [("inventory", "0006_storage_by_content")]
ROWS = {
    "Container": ("container_id", "name", "image", "image_id", "state", "running", "created", "position"),
    "Image": ("image_id", "tags", "created", "size", "position"),
    "Network": ("network_id", "name", "driver", "position"),
}


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.fixture
def back_to_the_latest_afterwards() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _rows(apps, snapshot_ids):
    return {
        name: sorted(apps.get_model("inventory", name).objects.filter(snapshot_id__in=snapshot_ids)
                     .values_list("snapshot_id", "host_id", *columns))
        for name, columns in ROWS.items()
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_it_moves_snapshots_and_rows_to_storage_by_content_and_back():
    from inventory.services import _container_row, _image_row, _network_row

    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    Host, Snapshot = apps.get_model("inventory", "Host"), apps.get_model("inventory", "Snapshot")
    originals: dict[int, bytes] = {}
    hosts = {}
    for round_ in range(2):
        for index, path in enumerate(sample_snapshots()):
            doc = json.loads(path.read_text())
            doc["agent"]["collected_at"] = f"2026-11-0{round_ + 1}T00:00:00Z"
            canonical = canonical_bytes(doc)
            if index not in hosts:
                hosts[index] = Host.objects.create(machine_id=f"m{index}", hostname=f"h{index}")
            host = hosts[index]
            snapshot = Snapshot.objects.create(
                host=host, sha256=hashlib.sha256(canonical).hexdigest(), schema=doc["schema"],
                collected_at=datetime.datetime(2026, 11, round_ + 1, tzinfo=datetime.UTC), size_bytes=len(canonical),
                content=gzip.compress(canonical),
            )
            originals[snapshot.pk] = canonical
            docker = doc["docker"]
            for name, make, items in (("Container", _container_row, docker["containers"]),
                                      ("Image", _image_row, docker["images"]),
                                      ("Network", _network_row, docker["networks"])):
                model = apps.get_model("inventory", name)
                model.objects.bulk_create([model(snapshot=snapshot, host=host, position=i, **make(i, item))
                                           for i, item in enumerate(items)])
    before = _rows(apps, list(originals))
    assert before["Container"]

    migrate(AFTER)
    from inventory.models import Container, DocumentPart, Image, Network
    from inventory.models import Snapshot as Current

    for pk, canonical in originals.items():
        snapshot = Current.objects.get(pk=pk)
        assert snapshot.skeleton is not None and snapshot.canonical == canonical and snapshot.verify()
    # Both rounds of a host share their parts: the second round added only its skeletons.
    assert DocumentPart.objects.count() < 2 * sum(1 for _ in sample_snapshots()) * 10
    after = {name: sorted(model.objects.filter(snapshot_id__in=list(originals))
                          .values_list("snapshot_id", "host_id", *ROWS[name]))
             for name, model in (("Container", Container), ("Image", Image), ("Network", Network))}
    assert after == before
    for host in hosts.values():
        chain = list(Current.objects.filter(host_id=host.pk).order_by("pk").values_list("sha256", "previous_sha256"))
        assert [previous for _, previous in chain] == ["", chain[0][0]]

    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    Snapshot = apps.get_model("inventory", "Snapshot")
    for pk, canonical in originals.items():
        assert gzip.decompress(bytes(Snapshot.objects.get(pk=pk).content)) == canonical
    assert _rows(apps, list(originals)) == before
