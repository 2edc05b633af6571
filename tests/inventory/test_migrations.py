"""The data migration that fills Host.effective_labels and the first history row of each host."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("inventory", "0003_labels_history_standing")]
AFTER = [("inventory", "0004_fill_effective_labels")]
FIRST_SEEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_afterwards")
def test_it_fills_effective_labels_and_one_history_row_per_host_and_goes_back():
    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    Host, LabelRule = apps.get_model("inventory", "Host"), apps.get_model("inventory", "LabelRule")
    LabelRule.objects.create(key="pci", value="rule", fact="hostname", pattern="db*")
    LabelRule.objects.create(key="zone", value="rule", fact="hostname", pattern="db*")
    db = Host.objects.create(machine_id="m1", hostname="db01", first_seen_at=FIRST_SEEN,
                             agent_labels={"pci": "agent", "env": "agent"}, labels={"env": "admin"})
    web = Host.objects.create(machine_id="m2", hostname="web01", first_seen_at=FIRST_SEEN)

    apps = migrate(AFTER).loader.project_state(AFTER).apps
    Host, HostLabels = apps.get_model("inventory", "Host"), apps.get_model("inventory", "HostLabels")
    assert Host.objects.get(pk=db.pk).effective_labels == {"pci": "agent", "zone": "rule", "env": "admin"}
    assert Host.objects.get(pk=web.pk).effective_labels == {}
    rows = sorted(HostLabels.objects.values_list("host_id", "labels", "valid_from"))
    assert rows == [(db.pk, {"pci": "agent", "zone": "rule", "env": "admin"}, FIRST_SEEN), (web.pk, {}, FIRST_SEEN)]

    migrate(BEFORE)
    migrate(AFTER)
    assert HostLabels.objects.count() == 2
    migrate([("inventory", "0002_labels")])
    HostLabels = migrate(AFTER).loader.project_state(AFTER).apps.get_model("inventory", "HostLabels")
    assert HostLabels.objects.count() == 2
