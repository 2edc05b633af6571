"""RiskAcceptance.covers and active_exceptions: scopes, and fail -> excepted -> fail again at expiry (frozen clock)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from compliance.exceptions.models import RiskAcceptance, image_matches
from compliance.exceptions.services import active_exceptions, mark_matched, revoke_exception
from tests.exceptions.conftest import FakeResult

pytestmark = pytest.mark.django_db

IMAGE_ID = "sha256:dfee4338413dd000e4727f072ec68db740b63b5488a489c46800d9b2acf78fb3"


def excepted(result: FakeResult, host, at: datetime.datetime) -> bool:  # type: ignore[no-untyped-def]
    """What posture does with a failing result: excepted when an active exception covers it."""
    return any(exception.covers(result, host) for exception in active_exceptions(at))


def test_it_covers_all_hosts_for_its_control_only(approved, web, build):
    exception = approved(scope_kind="all")
    assert exception.covers(FakeResult("5.5"), web)
    assert exception.covers(FakeResult("5.5"), build)
    assert not exception.covers(FakeResult("5.10"), web)


def test_it_covers_hosts_matching_a_label_selector(approved, web, build):
    exception = approved(scope_kind="selector", scope_selector="env=prod,pci=cde")
    assert exception.covers(FakeResult("5.5"), web)
    assert not exception.covers(FakeResult("5.5"), build)


def test_it_covers_one_host(approved, web, build):
    exception = approved(scope_kind="host", scope_host=web)
    assert exception.covers(FakeResult("5.5", "container", "api"), web)
    assert not exception.covers(FakeResult("5.5"), build)


def test_it_covers_containers_by_a_glob_on_their_name(approved, web):
    exception = approved(scope_kind="container", scope_container_pattern="web-*")
    assert exception.covers(FakeResult("5.5", "container", "web-1"), web)
    assert not exception.covers(FakeResult("5.5", "container", "api-1"), web)
    assert not exception.covers(FakeResult("5.5", "host", "web-host"), web)


def test_it_covers_an_image_and_the_containers_that_run_it(approved, web):
    by_id = approved(control="5.28", scope_kind="image", scope_image=IMAGE_ID[:19])
    by_ref = approved(control="5.28", scope_kind="image", scope_image="local/busybox:1")
    image = FakeResult("5.28", "image", "localhost/local/busybox:1", IMAGE_ID)
    runs = {"Config.Image": "localhost/local/busybox:1", "Image": IMAGE_ID}
    container = FakeResult("5.28", "container", "pl-hardened", "0fe1", runs)
    other = FakeResult("5.28", "container", "db", "77aa", {"Config.Image": "postgres:16", "Image": "sha256:" + "a" * 64})
    for exception in (by_id, by_ref):
        assert exception.covers(image, web)
        assert exception.covers(container, web)
        assert not exception.covers(other, web)
    bare = FakeResult("5.28", "container", "pl-hardened", "0fe1")
    assert by_id.covers(bare, web, image=("localhost/local/busybox:1", IMAGE_ID))
    assert not by_id.covers(bare, web)


def test_it_normalizes_image_references():
    assert image_matches("nginx", "docker.io/library/nginx:latest", "")
    assert image_matches("nginx:1.27", "nginx:1.27", "")
    assert not image_matches("nginx:1.27", "nginx:1.26", "")
    assert not image_matches("sha256:abcdef123456", "", "")


def test_it_excepts_a_failure_until_expiry_and_fails_again_at_once(approved, web):
    start = timezone.now()
    exception = approved(expires_at=start + datetime.timedelta(days=10))
    failing = FakeResult("5.5")
    assert excepted(failing, web, start + datetime.timedelta(minutes=1))
    with time_machine.travel(start + datetime.timedelta(days=9, hours=23), tick=False):
        assert excepted(failing, web, timezone.now())
        assert RiskAcceptance.objects.get(pk=exception.pk).effective_status == "approved"
    with time_machine.travel(exception.expires_at, tick=False):
        assert not excepted(failing, web, timezone.now())
        assert RiskAcceptance.objects.get(pk=exception.pk).effective_status == "expired"
    assert RiskAcceptance.objects.get(pk=exception.pk).status == "approved"  # expiry is computed, never a stored change


def test_it_does_not_except_before_approval_nor_after_revocation(make_exception, approved, alice, web):
    requested = make_exception()
    assert not excepted(FakeResult("5.5"), web, timezone.now())
    exception = approved()
    before_revocation = timezone.now()
    revoke_exception(exception.pk, by=alice, reason="fixed")
    assert [e.pk for e in active_exceptions(timezone.now())] == []
    assert [e.pk for e in active_exceptions(before_revocation)] == [exception.pk]
    assert requested.pk not in [e.pk for e in active_exceptions(timezone.now())]


def test_it_lists_active_exceptions_in_one_query(approved, web, django_assert_num_queries):
    for i in range(5):
        approved(scope_kind="host", scope_host=web, control=["4.1", "5.5", "5.10", "5.28", "5.5"][i])
    with django_assert_num_queries(1):
        exceptions = active_exceptions(timezone.now())
        assert len(exceptions) == 5
        assert all(e.covers(FakeResult(e.control), web) for e in exceptions)


def test_it_marks_matches_in_one_update(approved, django_assert_num_queries):
    first, second = approved(), approved()
    at = timezone.now()
    with django_assert_num_queries(1):
        assert mark_matched([first.pk, second.pk, first.pk], at) == 2
    first.refresh_from_db()
    assert first.last_matched_at == at
    assert mark_matched([first.pk], at - datetime.timedelta(days=1)) == 0
    assert mark_matched([], at) == 0
