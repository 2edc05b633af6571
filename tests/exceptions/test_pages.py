"""The exception pages: list, request form, detail with history, approve/reject/revoke with four-eyes."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from compliance.exceptions.models import RiskAcceptance

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_it_requests_an_exception_with_the_form(carol, cis, web):
    expires = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    client = logged_in(carol)
    assert client.get("/exceptions/new/").status_code == 200
    response = client.post("/exceptions/new/", {
        "control": "5.5", "scope_kind": "host", "scope_host": web.pk, "justification": "Appliance",
        "risk_rating": "low", "expires_at": expires,
    })
    exception = RiskAcceptance.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exceptions/{exception.pk}/"
    assert exception.scope_host == web and exception.requested_by == carol
    page = client.get(response["Location"]).content.decode()
    assert "Appliance" in page and "History" in page and "carol" in page


def test_it_shows_form_errors_by_field(carol, cis):
    response = logged_in(carol).post("/exceptions/new/", {
        "control": "5.5", "scope_kind": "selector", "scope_selector": "bad term!", "justification": "x",
        "risk_rating": "low", "expires_at": (timezone.now() + datetime.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M"),
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "bad label selector term" in html and "at most 365 days" in html
    assert not RiskAcceptance.objects.exists()


def test_it_keeps_auditors_off_the_form_and_strangers_off_the_list(bob, charlie):
    assert logged_in(bob).get("/exceptions/new/").status_code == 403
    assert logged_in(bob).get("/exceptions/").status_code == 200
    assert logged_in(charlie).get("/exceptions/").status_code == 403
    assert Client().get("/exceptions/").status_code == 302


def test_it_refuses_approval_by_the_requester_on_the_page(carol, make_exception):
    exception = make_exception(by=carol)
    client = logged_in(carol)
    detail = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert "another security manager or admin must decide" in detail and "Approve</button>" not in detail
    response = client.post(f"/exceptions/{exception.pk}/approve/")
    assert response.status_code == 403
    assert "cannot approve their own" in response.content.decode() and "Denied" in response.content.decode()
    assert RiskAcceptance.objects.get(pk=exception.pk).status == "requested"
    denial = AuditEvent.objects.get(action="deny", object_id=str(exception.pk))
    assert denial.actor == carol and denial.changes["action"] == [None, "approve"]


def test_it_refuses_approval_by_an_auditor_on_the_page(bob, make_exception):
    exception = make_exception()
    response = logged_in(bob).post(f"/exceptions/{exception.pk}/approve/")
    assert response.status_code == 403
    assert RiskAcceptance.objects.get(pk=exception.pk).status == "requested"


def test_it_approves_rejects_and_revokes_on_the_page(alice, make_exception):
    client = logged_in(alice)
    first, second = make_exception(), make_exception()
    assert "Approve</button>" in client.get(f"/exceptions/{first.pk}/").content.decode()
    assert client.post(f"/exceptions/{first.pk}/approve/", {"note": "fine"}).status_code == 302
    assert client.post(f"/exceptions/{second.pk}/reject/", {"note": "no"}).status_code == 302
    assert RiskAcceptance.objects.get(pk=first.pk).status == "approved"
    assert RiskAcceptance.objects.get(pk=second.pk).status == "rejected"
    response = client.post(f"/exceptions/{second.pk}/approve/")
    assert response.status_code == 409 and "cannot approve an exception that is rejected" in response.content.decode()
    assert client.post(f"/exceptions/{first.pk}/revoke/", {"note": "fixed"}).status_code == 302
    first.refresh_from_db()
    assert first.status == "revoked" and first.revocation_reason == "fixed"
    history = client.get(f"/exceptions/{first.pk}/").content.decode()
    assert "Approve" in history and "Revoke" in history and "alice" in history


def test_it_refuses_an_overlong_note_on_the_page(alice, make_exception):
    exception = make_exception()
    response = logged_in(alice).post(f"/exceptions/{exception.pk}/approve/", {"note": "x" * 10_001})
    assert response.status_code == 400 and "at most 10000 characters" in response.content.decode()
    assert RiskAcceptance.objects.get(pk=exception.pk).status == "requested"


def test_it_refuses_an_overlong_justification_in_the_form(carol, cis):
    response = logged_in(carol).post("/exceptions/new/", {
        "control": "5.5", "scope_kind": "all", "justification": "x" * 10_001, "risk_rating": "low",
        "expires_at": (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
    })
    assert response.status_code == 400 and "at most 10000 characters" in response.content.decode()
    assert not RiskAcceptance.objects.exists()


def test_it_lists_exceptions_in_a_bounded_number_of_queries(bob, approved, make_exception, web, django_assert_max_num_queries):
    for _ in range(4):
        approved(scope_kind="host", scope_host=web)
        make_exception()
    client = logged_in(bob)
    with django_assert_max_num_queries(8):
        response = client.get("/exceptions/")
    assert response.status_code == 200
    assert response.content.decode().count('href="/exceptions/') >= 8
    assert client.get("/exceptions/?status=approved").content.decode().count("badge pass") == 4
