"""Saving a user in the Django admin without touching a date records no date change (date_joined, last_login)."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """The values a browser would post back from the admin change form, as it was rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _post_back(client: Client, url: str, **changes: str) -> int:
    parser = FormValues()
    parser.feed(client.get(url).content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    data.update({k: [v] for k, v in changes.items()})
    data.pop("_addanother", None)
    data.pop("_continue", None)
    return client.post(url, data).status_code


def test_it_records_no_date_joined_change_when_a_user_is_saved_unchanged(alice, charlie):
    # Microseconds in the stored times, as Django writes them when a user is created or logs in.
    User.objects.filter(pk=charlie.pk).update(
        date_joined=datetime.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC),
        last_login=datetime.datetime(2026, 3, 2, 8, 0, 1, 654321, tzinfo=datetime.UTC),
    )
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(User.objects.get(pk=alice.pk))
    url = f"/admin/auth/user/{charlie.pk}/change/"

    assert _post_back(client, url) == 302
    assert not AuditEvent.objects.filter(action="change", object_id=str(charlie.pk)).exists()
    charlie.refresh_from_db()
    assert charlie.date_joined.microsecond == 123456 and charlie.last_login.microsecond == 654321

    assert _post_back(client, url, email="new@example.test") == 302
    event = AuditEvent.objects.get(action="change", object_id=str(charlie.pk))
    assert event.changes == {"email": ["charlie@example.test", "new@example.test"]}


def test_it_still_records_a_date_an_admin_changes(alice, charlie):
    User.objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(User.objects.get(pk=alice.pk))
    url = f"/admin/auth/user/{charlie.pk}/change/"

    assert _post_back(client, url, date_joined_0="2020-01-02", date_joined_1="03:04:05") == 302

    event = AuditEvent.objects.get(action="change", object_id=str(charlie.pk))
    assert list(event.changes) == ["date_joined"] and event.changes["date_joined"][1] == "2020-01-02T03:04:05+00:00"
