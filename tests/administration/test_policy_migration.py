"""compliance 0007: the row named "default" (the one the engine used) becomes the active policy; other rows, which
were silently ignored, stay stored and visibly inactive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("compliance", "0006_alter_evaluation_status")]
AFTER = [("compliance", "0007_sitepolicy_is_active")]


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
def test_it_keeps_the_policy_that_applied_and_makes_it_explicit():
    apps = migrate(BEFORE).loader.project_state(BEFORE).apps
    SitePolicy = apps.get_model("compliance", "SitePolicy")
    SitePolicy.objects.create(name="default", data={"max_unused_images": 1})
    SitePolicy.objects.create(name="strict", data={"max_unused_images": 0})
    SitePolicy.objects.create(name="draft", data={})

    apps = migrate(AFTER).loader.project_state(AFTER).apps
    SitePolicy = apps.get_model("compliance", "SitePolicy")
    assert dict(SitePolicy.objects.values_list("name", "is_active")) == {"default": True, "strict": False, "draft": False}

    migrate(BEFORE)
    migrate(AFTER)
