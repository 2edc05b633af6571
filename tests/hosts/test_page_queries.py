"""The host page, the snapshot page and a snapshot diff cost the same queries for a bigger fleet and a longer history
(the issue's performance rule; bench/pages.py times them over 2,000 hosts)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from tests.hosts.conftest import NOW, T0

MAX_QUERIES = 25


def _paths(estate, later) -> dict[str, str]:
    web = estate["web"]
    return {
        "host": f"/hosts/{web.host_id}/",
        "host, failing only": f"/hosts/{web.host_id}/?status=fail",
        "snapshot": f"/snapshots/{web.pk}/",
        "diff": f"/snapshots/{web.pk}/diff/{later.pk}/",
    }


@pytest.mark.parametrize("page", ["host", "host, failing only", "snapshot", "diff"])
def test_it_costs_the_same_queries_for_a_bigger_fleet_and_history(estate, push, now, bob, page,
                                                                  django_assert_max_num_queries):
    later = push("web", at=T0 + datetime.timedelta(minutes=30))
    path = _paths(estate, later)[page]
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        assert client.get(path).status_code == 200
    for i in range(3):
        push(f"web-{i}", at=T0 + datetime.timedelta(minutes=i))
        push("db", at=T0 + datetime.timedelta(minutes=40 + i))
        push("web", at=T0 + datetime.timedelta(minutes=1 + i))  # older than `later`: history, not the standing one
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(MAX_QUERIES) as big:
        response = client.get(path)
        assert response.status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)
    if page.startswith("host"):
        assert len(response.context["history_rows"]) == 5
