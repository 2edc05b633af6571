"""The audit history names what a change's ids stand for: `requested_by: — → carol`, not `requested_by: → 2`."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from audit.history import readable_changes
from audit.models import AuditEvent
from audit.services import record
from compliance.exceptions.models import RiskAcceptance
from compliance.exceptions.services import approve_exception, request_exception
from inventory.models import Host

pytestmark = pytest.mark.django_db

NOW = datetime.datetime.now(datetime.UTC)


def _changes_text(page: str) -> list[str]:
    cells = re.findall(r"<div><code>([^<]+)</code>: (.*?)</div>", page)
    return [f"{field}: {html.unescape(value)}" for field, value in cells]


def test_the_exception_history_shows_user_and_host_names(alice, bob, carol):
    web = Host.objects.create(machine_id="m-web", hostname="web01")
    exception = request_exception(by=carol, control="5.5", scope_kind="host", scope_host=web, justification="why",
                                  risk_rating="low", expires_at=NOW + datetime.timedelta(days=9))
    approve_exception(exception.pk, by=alice, note="fine")
    client = Client()
    client.force_login(bob)

    changes = _changes_text(client.get(f"/exceptions/{exception.pk}/").content.decode())

    assert "requested_by: — → carol" in changes and "scope_host: — → web01" in changes
    assert "approved_by: — → alice" in changes
    assert not any(re.search(rf"→ {carol.pk}$|→ {web.pk}$", line) for line in changes), changes


def test_it_names_groups_and_marks_deleted_objects(alice, charlie):
    admin_group, auditor_group = Group.objects.get(name="admin"), Group.objects.get(name="auditor")
    gone = User.objects.create_user("gone")
    gone_pk = gone.pk
    gone.delete()
    event = record("change", charlie, actor=alice, changes={
        "groups": [[auditor_group.pk], [admin_group.pk, auditor_group.pk]], "is_staff": [False, True],
        "last_login": [None, "2026-01-01T00:00:00+00:00"],
    })
    other = record("create", None, actor=alice, object_repr="x", changes={"requested_by": [None, 5]})
    exception_event = AuditEvent.objects.create(
        action="change", content_type=ContentType.objects.get_for_model(RiskAcceptance), object_id="1",
        changes={"requested_by": [None, gone_pk], "approved_by": [None, "someone"]},
    )

    rows = {e.pk: {c.field: (c.old, c.new) for c in e.readable} for e in readable_changes([event, other, exception_event])}

    assert rows[event.pk]["groups"] == ("auditor", "admin, auditor")
    assert rows[event.pk]["is_staff"] == ("False", "True") and rows[event.pk]["last_login"][0] == "—"
    assert rows[other.pk]["requested_by"] == ("—", "5")  # no object type: nothing to resolve against
    assert rows[exception_event.pk]["requested_by"] == ("—", f"#{gone_pk} (deleted)")
    assert rows[exception_event.pk]["approved_by"] == ("—", "someone")


def test_names_already_recorded_are_shown_as_they_are(alice):
    from inventory.models import AgentToken

    token = AgentToken.issue("web-01")[0]
    event = record("create", token, actor=alice, changes={"created_by": [None, "alice"], "name": [None, "web-01"]})
    [named] = readable_changes([event])
    assert {c.field: c.new for c in named.readable} == {"created_by": "alice", "name": "web-01"}


def test_naming_costs_one_query_per_related_model_whatever_the_events(alice, carol, django_assert_num_queries):
    hosts = [Host.objects.create(machine_id=f"m{i}", hostname=f"h{i}") for i in range(5)]
    events = [
        record("create", request, actor=carol, changes={"requested_by": [None, carol.pk], "scope_host": [None, host.pk]})
        for request, host in ((carol, h) for h in hosts)
    ]
    fresh = list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]))
    with django_assert_num_queries(0):
        readable_changes([])
    with django_assert_num_queries(0):  # users have no requested_by field: nothing to look up
        readable_changes(fresh)
    ct = ContentType.objects.get_for_model(RiskAcceptance)
    many = [AuditEvent.objects.create(action="create", content_type=ct, object_id=str(i), changes=e.changes)
            for i, e in enumerate(events)]
    with django_assert_num_queries(2):  # one for the users, one for the hosts
        named = readable_changes(many)
    assert [dict((c.field, c.new) for c in e.readable) for e in named][0] == {"requested_by": "carol", "scope_host": "h0"}
