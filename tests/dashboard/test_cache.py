"""Cached postures: served again while nothing changes, recomputed at once after a new result, a decision, an upload,
a label change, or the moment an exception lapses."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from compliance.dashboard import cache as posture_cache
from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception, revoke_exception
from frameworks.models import Requirement
from inventory.labels import relabel_host
from tests.dashboard.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(monkeypatch):
    """The slugs compute_posture was asked for, in order."""
    calls: list[str] = []
    real = posture_cache.compute_posture

    def spy(slug, *args, **kwargs):
        calls.append(slug)
        return real(slug, *args, **kwargs)

    monkeypatch.setattr(posture_cache, "compute_posture", spy)
    return calls


def cis(client: Client) -> dict[str, int]:
    card = next(c for c in client.get("/").context["overview"].cards if c.framework.slug == "cis-docker-1.6.0")
    return {"failing": card.summary.failing, "needs_evidence": card.summary.needs_evidence, "hosts": card.summary.hosts}


def test_it_serves_a_posture_again_while_nothing_changes(estate, bob, computed, settings):
    settings.PLIMSOLL_BROKER_CONFIGURED = True
    client = Client()
    client.force_login(bob)
    client.get("/")
    assert len(computed) == 4
    client.get("/")
    client.get("/posture/")
    client.get("/posture/pci-dss-4.0.1/")
    assert len(computed) == 4


def test_a_new_result_a_decision_an_upload_or_a_label_shows_at_once(estate, judged_host, alice, bob, carol, settings):
    settings.PLIMSOLL_BROKER_CONFIGURED = True
    client = Client()
    client.force_login(bob)
    before = cis(client)
    judged_host("new-1", {"5.4": ["fail"]}, at=NOW - datetime.timedelta(minutes=5))
    after_result = cis(client)
    assert after_result["hosts"] == before["hosts"] + 1

    exception = request_exception(by=carol, control="2.5", scope_kind="all", justification="x", risk_rating="low",
                                  expires_at=NOW + datetime.timedelta(days=3))
    assert cis(client) == after_result  # a request changes nothing until approved
    approve_exception(exception.pk, by=alice)
    excepted = cis(client)
    assert excepted["failing"] == after_result["failing"] - 1
    revoke_exception(exception.pk, by=alice, reason="done")
    assert cis(client) == after_result

    upload_evidence(by=carol, kind="note", title="reviewed", description="ok", collected_at=NOW - datetime.timedelta(days=1),
                    valid_until=NOW + datetime.timedelta(days=30),
                    requirements=[Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")])
    assert cis(client)["needs_evidence"] == after_result["needs_evidence"] - 1

    host = estate[0].host
    host.labels = {"pci": "no"}
    relabel_host(host)
    host.save()
    pci = next(c for c in client.get("/posture/").context["rows"] if c["framework"].slug == "pci-dss-4.0.1")
    scoped = client.get("/posture/pci-dss-4.0/?scope=pci%3Dcde").context["summary"]
    assert pci["summary"].hosts == 3 and scoped.hosts == 0


def test_a_posture_is_not_served_past_the_expiry_of_an_exception(estate, alice, bob, carol, settings):
    settings.PLIMSOLL_BROKER_CONFIGURED = True
    exception = request_exception(by=carol, control="2.5", scope_kind="all", justification="x", risk_rating="low",
                                  expires_at=NOW + datetime.timedelta(days=2))
    approve_exception(exception.pk, by=alice)
    client = Client()
    client.force_login(bob)
    excepted = cis(client)
    with time_machine.travel(NOW + datetime.timedelta(days=3)):
        client.force_login(bob)
        assert cis(client)["failing"] == excepted["failing"] + 1
