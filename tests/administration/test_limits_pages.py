"""A limited auditor's limits hold on the pages too: other frameworks answer 403, and every posture is within the
account's label scope."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from compliance.administration.models import AccountLimit


@pytest.fixture
def limited(db, judged_host) -> User:
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    judged_host("office-1", {"2.5": ["fail"], "2.1": ["fail"]}, labels={"env": "office"})
    user = User.objects.create_user("lim", "lim@example.test", "pw-lim")
    user.groups.add(Group.objects.get(name="auditor"))
    AccountLimit.objects.create(user=user, frameworks=["cis-docker-1.6.0"], scope="pci=cde",
                                expires_at=timezone.now() + datetime.timedelta(days=5))
    return user


def test_it_refuses_other_frameworks_on_the_pages(client, limited):
    client.force_login(limited)
    assert client.get("/posture/pci-dss-4.0/").status_code == 403
    assert client.get("/posture/pci-dss-4.0/2.2.5/").status_code == 403
    assert client.get("/posture/cis-docker-1.6.0/").status_code == 200


def test_it_keeps_every_posture_page_within_the_scope(client, limited):
    client.force_login(limited)
    page = client.get("/posture/cis-docker-1.6.0/").context
    assert page["summary"].hosts == 1
    assert str(page["posture"].selector) == "pci=cde"
    overview = client.get("/").context["overview"]
    assert [c.framework.slug for c in overview.cards] == ["cis-docker-1.6.0"]
    assert overview.cards[0].posture.summary.hosts == 1
    index = client.get("/posture/").context["rows"]
    assert [r["framework"].slug for r in index] == ["cis-docker-1.6.0"]
