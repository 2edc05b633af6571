"""Brute-force protection (django-axes): a username is locked per address after AXES_FAILURE_LIMIT failures."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


def _login(username: str, password: str, address: str = ATTACKER, **extra: str):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/login/", {"username": username, "password": password}, **extra)
    return client, response


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _hammer(username: str, times: int, address: str = ATTACKER) -> None:
    client = Client(REMOTE_ADDR=address)
    for _ in range(times):
        client.post("/login/", {"username": username, "password": "wrong"})


def test_thirty_wrong_passwords_lock_the_right_one_out(bob):
    _hammer("bob", 30)
    client, response = _login("bob", "pw-bob")
    assert not _logged_in(client)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and "bob" in page and str(settings.AXES_FAILURE_LIMIT) in page
    assert response["Content-Security-Policy"]  # the lockout page is a page like any other


def test_the_limit_is_the_configured_one(bob):
    _hammer("bob", settings.AXES_FAILURE_LIMIT - 1)
    client, response = _login("bob", "pw-bob")
    assert response.status_code == 302 and _logged_in(client)  # one failure short of the limit: still allowed


def test_a_success_resets_the_count(bob):
    _hammer("bob", settings.AXES_FAILURE_LIMIT - 1)
    assert _logged_in(_login("bob", "pw-bob")[0])
    _hammer("bob", settings.AXES_FAILURE_LIMIT - 1)
    assert _logged_in(_login("bob", "pw-bob")[0])


def test_other_users_and_other_addresses_are_not_locked(bob, carol):
    _hammer("bob", 30)
    assert _logged_in(_login("carol", "pw-carol", ATTACKER)[0])  # another user from the same address
    assert _logged_in(_login("bob", "pw-bob", OFFICE)[0])  # the same user from another address
    assert not _logged_in(_login("bob", "pw-bob", ATTACKER)[0])


def test_the_right_password_works_again_after_the_cool_off(bob):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _hammer("bob", 30)
    cool_off = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    with time_machine.travel(start + cool_off - datetime.timedelta(seconds=30), tick=False):
        assert not _logged_in(_login("bob", "pw-bob")[0])  # attempts while locked do not extend the lock...
    with time_machine.travel(start + cool_off + datetime.timedelta(seconds=1), tick=False):
        assert _logged_in(_login("bob", "pw-bob")[0])  # ...and it ends on time


def test_the_admin_login_is_locked_too(alice):
    User.objects.filter(pk=alice.pk).update(is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=ATTACKER).post("/admin/login/", {"username": "alice", "password": "wrong"})
    client = Client(REMOTE_ADDR=ATTACKER)
    response = client.post("/admin/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 429 and not _logged_in(client)


def test_a_script_gets_the_lockout_as_json(bob):
    _hammer("bob", settings.AXES_FAILURE_LIMIT)
    _, response = _login("bob", "pw-bob", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 429
    body = response.json()
    assert body["username"] == "bob" and body["failure_limit"] == settings.AXES_FAILURE_LIMIT and body["cooloff_time"]


def test_an_api_token_is_not_a_password_and_is_not_locked(bob, api_client_for):
    # The API authenticates by token (or by the session of a form login, which the lockout guards): no password is
    # ever checked there, so there is nothing to guess and nothing to lock.
    _hammer("bob", 30)
    assert api_client_for(bob).get("/api/v1/hosts/").status_code == 200


@pytest.mark.parametrize("command", [["axes_reset"], ["axes_reset_username", "bob"], ["axes_reset_ip", ATTACKER]])
def test_an_admin_lifts_the_lock_with_axes_reset(bob, command):
    _hammer("bob", 30)
    assert not _logged_in(_login("bob", "pw-bob")[0])
    call_command(*command)
    assert _logged_in(_login("bob", "pw-bob")[0])
