"""The audit trail: logins, failed logins, the read-only API, CSV export, the page, and rows that cannot change."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent, AuditEventIsImmutable
from audit.services import record

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-log/"


@pytest.fixture
def events(alice: User) -> list[AuditEvent]:
    return [record("create", alice, actor=alice, changes={"email": [None, f"a{i}@example.test"]}) for i in range(5)]


def test_it_records_a_login_and_a_failed_login(bob):
    client = Client()
    assert client.post("/login/", {"username": "bob", "password": "pw-bob"}).status_code == 302
    assert Client().post("/login/", {"username": "bob", "password": "wrong"}).status_code == 200
    assert Client().post("/login/", {"username": "nobody", "password": "x"}).status_code == 200
    login = AuditEvent.objects.get(action="login")
    assert login.actor == bob and login.actor_username == "bob" and login.ip == "127.0.0.1" and login.object_id == str(bob.pk)
    failed = list(AuditEvent.objects.filter(action="login_failed").order_by("id"))
    assert [(e.actor, e.actor_username) for e in failed] == [(None, "bob"), (None, "nobody")]
    assert all("wrong" not in str(e.changes) for e in failed)


def test_it_lists_the_trail_to_every_role_and_nobody_else(api_client_for, bob, carol, charlie, events,
                                                         django_assert_max_num_queries):
    client = api_client_for(bob)
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200 and response.json()["count"] == 5
    row = response.json()["results"][0]
    assert row["actor"] == "alice" and row["action"] == "create" and row["object_type"] == "auth.user"
    assert api_client_for(carol).get(URL).status_code == 200
    assert api_client_for(charlie).get(URL).status_code == 403
    assert client.get(f"{URL}?action=create&actor=alice").json()["count"] == 5
    assert client.get(f"{URL}?object_type=auth.user&object_id={events[0].object_id}").json()["count"] == 5
    assert client.get(f"{URL}?action=approve").json()["count"] == 0
    later = (timezone.now() + datetime.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert client.get(URL, {"since": later}).json()["count"] == 0


def test_it_exports_csv_both_ways(api_client_for, bob, events):
    client = api_client_for(bob)
    for url in (f"{URL}?format=csv", f"{URL}export/"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment;")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == [
            "id", "timestamp", "actor", "action", "object_type", "object_id", "object", "changes", "ip", "changes_readable",
        ]
        assert len(rows) == 6 and rows[1][2] == "alice" and rows[1][4] == "auth.user"
        assert "a4@example.test" in rows[1][7]
    filtered = client.get(f"{URL}export/?action=approve")
    assert len(list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))) == 1


def test_it_defuses_spreadsheet_formulas_in_csv(api_client_for, bob, alice):
    record("login_failed", None, username="=HYPERLINK(\"http://evil\")", object_repr="=cmd")
    body = b"".join(api_client_for(bob).get(f"{URL}export/").streaming_content).decode()
    assert "'=HYPERLINK" in body and "'=cmd" in body


def test_it_cannot_be_changed_through_the_api(api_client_for, alice, events):
    client = api_client_for(alice)
    event = events[0]
    assert client.post(URL, {"action": "create"}, format="json").status_code == 405
    assert client.put(f"{URL}{event.pk}/", {"action": "approve"}, format="json").status_code == 405
    assert client.patch(f"{URL}{event.pk}/", {"action": "approve"}, format="json").status_code == 405
    assert client.delete(f"{URL}{event.pk}/").status_code == 405
    assert client.delete(f"{URL}{event.pk}/").json()["error"] == "method_not_allowed"
    event.refresh_from_db()
    assert event.action == "create" and AuditEvent.objects.count() == 5


def test_it_cannot_be_changed_by_code(events):
    event = AuditEvent.objects.get(pk=events[0].pk)
    event.action = "approve"
    with pytest.raises(AuditEventIsImmutable):
        event.save()
    with pytest.raises(AuditEventIsImmutable):
        event.delete()
    with pytest.raises(AuditEventIsImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="approve")
    with pytest.raises(AuditEventIsImmutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "create"


def test_it_keeps_the_username_when_the_user_is_deleted(charlie):
    record("create", None, actor=charlie, object_repr="something")
    charlie.delete()
    event = AuditEvent.objects.get(action="create")
    assert event.actor is None and event.actor_username == "charlie"


def test_it_shows_the_log_page_with_filters_and_export(bob, charlie, events, django_assert_max_num_queries):
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(8):
        page = client.get("/audit/?action=create")
    assert page.status_code == 200 and page.content.decode().count("a4@example.test") == 1
    export = client.get("/audit/export/?action=login")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [row[3] for row in rows[1:]] == ["login"]
    stranger = Client()
    stranger.force_login(charlie)
    assert stranger.get("/audit/").status_code == 403


def test_it_refuses_admin_edits(alice, events):
    client = Client()
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(pk=alice.pk))
    assert client.get(f"/admin/audit/auditevent/{events[0].pk}/change/").status_code == 200
    response = client.post(f"/admin/audit/auditevent/{events[0].pk}/change/", {"action": "approve"})
    assert response.status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=events[0].pk).action == "create"


def _admin_client(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def _user_form(user: User, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": user.date_joined.strftime("%H:%M:%S.%f"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S.%f"),
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_records_role_and_superuser_grants_made_in_the_user_admin(alice, charlie):
    from django.contrib.auth.models import Group

    client = _admin_client(alice)
    admin_group = Group.objects.get(name="admin")
    url = f"/admin/auth/user/{charlie.pk}/change/"
    assert client.get(url).status_code == 200

    response = client.post(url, _user_form(charlie, groups=[admin_group.pk], is_superuser="on", is_staff="on"))

    assert response.status_code == 302, response.content.decode()[:2000]
    charlie.refresh_from_db()
    assert charlie.is_superuser and charlie.is_staff and list(charlie.groups.all()) == [admin_group]
    event = AuditEvent.objects.get(action="change", object_id=str(charlie.pk))
    assert event.actor == alice and event.ip == "127.0.0.1" and event.content_type.model == "user"
    assert event.changes == {
        "groups": [[], [admin_group.pk]], "is_superuser": [False, True], "is_staff": [False, True],
    }

    response = client.post(url, _user_form(charlie, is_active=None))
    assert response.status_code == 302
    latest = AuditEvent.objects.filter(action="change", object_id=str(charlie.pk)).latest("id")
    assert latest.changes == {
        "groups": [[admin_group.pk], []], "is_superuser": [True, False], "is_staff": [True, False],
        "is_active": [True, False],
    }


def test_it_records_users_added_and_deleted_in_the_admin_without_their_password(alice):
    client = _admin_client(alice)

    response = client.post(
        "/admin/auth/user/add/",
        {"username": "erin", "password1": "a-Long-pass-phrase-9", "password2": "a-Long-pass-phrase-9", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    erin = User.objects.get(username="erin")
    event = AuditEvent.objects.get(action="create", object_id=str(erin.pk))
    assert event.actor == alice and event.changes["username"] == [None, "erin"]
    assert event.changes["password"] == [None, "(set)"] and erin.password not in str(event.changes)

    response = client.post(
        f"/admin/auth/user/{erin.pk}/password/",
        {"password1": "another-Long-pass-9", "password2": "another-Long-pass-9", "usable_password": "true"},
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="change", object_id=str(erin.pk))
    assert changed.changes == {"password": ["(set)", "(changed)"]}

    User.objects.filter(pk=alice.pk).update(is_superuser=True)  # the admin role may not delete users; a superuser may
    response = client.post(f"/admin/auth/user/{erin.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="erin").exists()
    deleted = AuditEvent.objects.get(action="delete", object_id=str(erin.pk))
    assert deleted.actor == alice and deleted.changes["username"] == ["erin", None]
    assert "pbkdf2" not in str(deleted.changes)
