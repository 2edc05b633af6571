"""Failed logins reach the audit trail in bounded number: anyone can fail a login, and audit rows are never deleted."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import timezone

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"


_clients: dict[str, Client] = {}


def _fail(username: str, address: str = ATTACKER) -> int:
    # One client per address, as a script would keep its connection (a new test client rebuilds the middleware).
    client = _clients.setdefault(address, Client(REMOTE_ADDR=address))
    return client.post("/login/", {"username": username, "password": "wrong"}).status_code


def _rows(**filters: str) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(action__in=["login_failed", "lockout"], **filters)
        .order_by("id")
        .values_list("action", "actor_username")
    )


def test_a_thousand_failures_write_the_failures_before_the_lockout_and_the_lockout(bob):
    codes = [_fail("bob") for _ in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert codes[: limit - 1] == [200] * (limit - 1) and set(codes[limit - 1 :]) == {429}
    # The other 970 through authenticate() itself: the same backends and signals, without rendering 970 pages.
    factory = RequestFactory()
    for _ in range(970):
        assert authenticate(factory.post("/login/", REMOTE_ADDR=ATTACKER), username="bob", password="wrong") is None
    # The failure that reaches the limit is recorded as the lockout; nothing more in this window.
    assert _rows() == [("login_failed", "bob")] * (limit - 1) + [("lockout", "bob")]
    lockout = AuditEvent.objects.get(action="lockout")
    assert lockout.ip == ATTACKER and lockout.actor is None and lockout.changes["failures"] == [None, limit]
    assert lockout.changes["cool_off_seconds"] == [None, int(settings.AXES_COOLOFF_TIME * 3600)]


def test_the_next_window_records_again(bob):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(20):
            _fail("bob")
    after = start + datetime.timedelta(hours=settings.AXES_COOLOFF_TIME, seconds=1)
    with time_machine.travel(after, tick=False):
        _fail("bob")
    assert len(_rows()) == settings.AXES_FAILURE_LIMIT + 1  # the limit's rows in the first window, one in the next


def test_failures_for_many_usernames_from_one_address_are_bounded(settings):
    settings.PLIMSOLL_AUDIT_FAILED_LOGINS_PER_ADDRESS = 12
    for i in range(40):
        _fail(f"guess{i}")
    assert len(_rows(ip=ATTACKER)) == 12
    _fail("someone", "198.51.100.20")  # another address still records
    assert _rows(ip="198.51.100.20") == [("login_failed", "someone")]


def test_failures_from_many_addresses_are_bounded_in_all(settings):
    settings.PLIMSOLL_AUDIT_FAILED_LOGINS_MAX = 15
    for i in range(40):
        _fail(f"guess{i}", f"198.51.100.{i + 1}")
    assert len(_rows()) == 15


def test_a_successful_login_is_always_recorded(bob, settings):
    settings.PLIMSOLL_AUDIT_FAILED_LOGINS_MAX = 1
    _fail("nobody")
    _fail("somebody")
    assert Client().post("/login/", {"username": "bob", "password": "pw-bob"}).status_code == 302
    assert AuditEvent.objects.filter(action="login", actor_username="bob").count() == 1
