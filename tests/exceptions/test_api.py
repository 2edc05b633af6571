"""/api/v1/exceptions/: request, four-eyes approval, rejection, revocation, 409s, limits and roles."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from compliance.exceptions import services
from compliance.exceptions.models import RiskAcceptance

pytestmark = pytest.mark.django_db

URL = "/api/v1/exceptions/"


def payload(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "control": "5.5", "scope_kind": "selector", "scope_selector": "env=prod", "justification": "Vendor appliance",
        "compensating_controls": "Network isolation", "risk_rating": "high",
        "expires_at": (timezone.now() + datetime.timedelta(days=90)).isoformat(),
    }
    body.update(overrides)
    return body


def test_it_requests_an_exception_and_records_it(client_of, carol, cis):
    response = client_of(carol).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested" and body["requested_by"] == "carol"
    exception = RiskAcceptance.objects.get(pk=body["id"])
    assert exception.requested_by == carol and exception.scope_selector == "env=prod"
    event = AuditEvent.objects.get(action="create", object_id=str(exception.pk))
    assert event.actor == carol and event.changes["control"] == [None, "5.5"] and event.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scope_selector": "env=prod,!x=y"}, "scope_selector"),
        ({"expires_at": None}, "expires_at"),
        ({"control": "9.99"}, "control"),
        ({"scope_kind": "host"}, "scope_host"),
        ({"scope_kind": "container"}, "scope_container_pattern"),
        ({"risk_rating": "whatever"}, "risk_rating"),
    ],
)
def test_it_names_the_bad_field(client_of, carol, cis, overrides, field):
    if field == "scope_host":
        overrides["scope_selector"] = ""
    if field == "scope_container_pattern":
        overrides["scope_selector"] = ""
    response = client_of(carol).post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["detail"]
    assert not RiskAcceptance.objects.exists()


def test_it_refuses_an_expiry_past_the_maximum(client_of, carol, cis, settings):
    too_far = (timezone.now() + datetime.timedelta(days=366)).isoformat()
    response = client_of(carol).post(URL, payload(expires_at=too_far), format="json")
    assert response.status_code == 400 and "expires_at" in response.json()["detail"]
    settings.PLIMSOLL_EXCEPTION_MAX_DAYS = 30
    too_far = (timezone.now() + datetime.timedelta(days=31)).isoformat()
    response = client_of(carol).post(URL, payload(expires_at=too_far), format="json")
    assert response.status_code == 400 and "30 days" in response.json()["detail"]["expires_at"][0]
    ok = (timezone.now() + datetime.timedelta(days=29)).isoformat()
    assert client_of(carol).post(URL, payload(expires_at=ok), format="json").status_code == 201


@pytest.mark.parametrize("field", ["justification", "compensating_controls"])
def test_it_refuses_free_text_past_the_limit(client_of, carol, cis, field):
    response = client_of(carol).post(URL, payload(**{field: "x" * 10_001}), format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "10000" in response.json()["detail"][field][0]
    assert not RiskAcceptance.objects.exists()
    assert client_of(carol).post(URL, payload(**{field: "x" * 10_000}), format="json").status_code == 201


def test_it_refuses_a_decision_note_past_the_limit(client_of, alice, make_exception):
    exception = make_exception()
    for verb in ("approve", "reject"):
        response = client_of(alice).post(f"{URL}{exception.pk}/{verb}/", {"note": "x" * 10_001}, format="json")
        assert response.status_code == 400 and "note" in response.json()["detail"]
    exception.refresh_from_db()
    assert exception.status == "requested" and exception.decision_note == ""
    with pytest.raises(ValidationError) as refused:
        services.approve_exception(exception.pk, by=alice, note="x" * 10_001)
    assert "decision_note" in refused.value.message_dict
    assert RiskAcceptance.objects.get(pk=exception.pk).status == "requested"
    assert not AuditEvent.objects.filter(action__in=["approve", "reject"]).exists()


def test_it_refuses_requests_from_auditors_and_reads_from_people_without_a_role(client_of, bob, charlie, cis):
    response = client_of(bob).post(URL, payload(), format="json")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert client_of(bob).get(URL).status_code == 200
    assert client_of(charlie).get(URL).status_code == 403
    assert not RiskAcceptance.objects.exists()


def test_it_never_lets_the_requester_approve(client_of, carol, make_exception):
    exception = make_exception(by=carol)
    response = client_of(carol).post(f"{URL}{exception.pk}/approve/", {"revision": 1}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "four_eyes"
    response = client_of(carol).post(f"{URL}{exception.pk}/reject/", {}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "four_eyes"
    exception.refresh_from_db()
    assert exception.status == "requested" and exception.approved_by is None
    assert not AuditEvent.objects.filter(action__in=["approve", "reject"]).exists()
    denials = AuditEvent.objects.filter(action="deny", object_id=str(exception.pk)).order_by("id")
    assert [(e.actor, e.changes["action"][1], e.ip) for e in denials] == [
        (carol, "approve", "127.0.0.1"), (carol, "reject", "127.0.0.1"),
    ]
    assert "cannot approve their own" in denials[0].changes["reason"][1]


def test_it_never_lets_an_auditor_approve(client_of, bob, make_exception):
    exception = make_exception()
    response = client_of(bob).post(f"{URL}{exception.pk}/approve/", {"revision": 1}, format="json")
    assert response.status_code == 403
    exception.refresh_from_db()
    assert exception.status == "requested"


def test_it_approves_by_another_manager_and_records_who(client_of, alice, carol, make_exception):
    exception = make_exception(by=carol)
    response = client_of(alice).post(f"{URL}{exception.pk}/approve/", {"note": "ok for a quarter", "revision": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved" and response.json()["approved_by"] == "alice"
    exception.refresh_from_db()
    assert exception.status == "approved" and exception.approved_by == alice and exception.decision_note == "ok for a quarter"
    event = AuditEvent.objects.get(action="approve")
    assert event.actor == alice and event.changes["status"] == ["requested", "approved"]


def test_it_answers_409_to_transitions_the_state_machine_forbids(client_of, alice, dave, make_exception):
    rejected = make_exception()
    assert client_of(alice).post(f"{URL}{rejected.pk}/reject/", {"note": "no"}, format="json").status_code == 200
    response = client_of(dave).post(f"{URL}{rejected.pk}/approve/", {"revision": 1}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "error": "invalid_transition",
        "detail": {"status": "rejected", "action": "approve", "reason": "cannot approve an exception that is rejected"},
    }
    requested = make_exception()
    assert client_of(alice).post(f"{URL}{requested.pk}/revoke/", {}, format="json").status_code == 409
    approved = make_exception()
    assert client_of(alice).post(f"{URL}{approved.pk}/approve/", {"revision": 1}, format="json").status_code == 200
    assert client_of(dave).post(f"{URL}{approved.pk}/approve/", {"revision": 1}, format="json").status_code == 409
    assert client_of(dave).post(f"{URL}{approved.pk}/reject/", {}, format="json").status_code == 409
    assert RiskAcceptance.objects.get(pk=rejected.pk).status == "rejected"
    assert RiskAcceptance.objects.get(pk=approved.pk).status == "approved"


def test_it_revokes_an_approved_exception(client_of, alice, carol, make_exception):
    exception = make_exception()
    client_of(alice).post(f"{URL}{exception.pk}/approve/", {"revision": 1}, format="json")
    response = client_of(carol).post(f"{URL}{exception.pk}/revoke/", {"note": "fixed the image"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    exception.refresh_from_db()
    assert exception.status == "revoked" and exception.revoked_by == carol and exception.revocation_reason == "fixed the image"
    assert AuditEvent.objects.filter(action="revoke", object_id=str(exception.pk), actor=carol).exists()
    assert client_of(alice).post(f"{URL}{exception.pk}/revoke/", {}, format="json").status_code == 409


def test_it_cannot_approve_an_exception_whose_expiry_has_passed(client_of, alice, make_exception):
    import time_machine

    exception = make_exception(expires_at=timezone.now() + datetime.timedelta(days=1))
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=False):
        response = client_of(alice).post(f"{URL}{exception.pk}/approve/", {"revision": 1}, format="json")
        assert response.status_code == 409 and response.json()["detail"]["status"] == "expired"
        assert client_of(alice).get(f"{URL}?status=expired").json()["count"] == 1
        assert client_of(alice).get(f"{URL}?status=requested").json()["count"] == 0


def test_it_changes_only_a_requested_exception(client_of, alice, carol, make_exception):
    exception = make_exception()
    response = client_of(carol).patch(f"{URL}{exception.pk}/", {"risk_rating": "low"}, format="json")
    assert response.status_code == 200 and response.json()["risk_rating"] == "low"
    assert AuditEvent.objects.get(action="change").changes == {"risk_rating": ["medium", "low"], "revision": [1, 2]}
    approved = client_of(alice).post(f"{URL}{exception.pk}/approve/", {"revision": 2}, format="json")
    assert approved.status_code == 200
    response = client_of(carol).patch(f"{URL}{exception.pk}/", {"risk_rating": "critical"}, format="json")
    assert response.status_code == 409
    assert RiskAcceptance.objects.get(pk=exception.pk).risk_rating == "low"


def test_it_lets_only_the_requester_change_a_requested_exception(client_of, carol, dave, make_exception):
    exception = make_exception(scope_kind="selector", scope_selector="env=dev")
    response = client_of(dave).patch(
        f"{URL}{exception.pk}/", {"scope_selector": "env=prod", "risk_rating": "low"}, format="json"
    )
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    unchanged = RiskAcceptance.objects.get(pk=exception.pk)
    assert unchanged.scope_selector == "env=dev" and unchanged.risk_rating == "medium"
    assert not AuditEvent.objects.filter(action="change").exists()
    response = client_of(carol).patch(f"{URL}{exception.pk}/", {"scope_selector": "env=prod"}, format="json")
    assert response.status_code == 200 and response.json()["scope_selector"] == "env=prod"
    assert AuditEvent.objects.get(action="change").actor == carol


def test_it_never_deletes_an_exception(client_of, alice, make_exception):
    exception = make_exception()
    assert client_of(alice).delete(f"{URL}{exception.pk}/").status_code == 405
    assert client_of(alice).put(f"{URL}{exception.pk}/", payload(), format="json").status_code == 405
    assert RiskAcceptance.objects.filter(pk=exception.pk).exists()


def test_it_lists_and_filters_in_a_bounded_number_of_queries(client_of, bob, approved, make_exception, web,
                                                             django_assert_max_num_queries):
    for _ in range(3):
        approved(scope_kind="host", scope_host=web)
        make_exception(control="4.1")
    client = client_of(bob)
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200 and response.json()["count"] == 6
    assert client.get(f"{URL}?status=approved").json()["count"] == 3
    assert client.get(f"{URL}?control=4.1").json()["count"] == 3
    assert client.get(f"{URL}?host={web.pk}").json()["count"] == 3
    with django_assert_max_num_queries(6):
        assert client.get(f"{URL}?status=requested&status=approved").json()["count"] == 6


def test_it_binds_an_approval_to_the_revision_reviewed(client_of, carol, alice, make_exception):
    exception = make_exception()
    assert client_of(alice).get(f"{URL}{exception.pk}/").json()["revision"] == 1
    # The requester widens the request after the reviewer read it: every earlier review is void.
    widened = client_of(carol).patch(
        f"{URL}{exception.pk}/", {"risk_rating": "critical", "justification": "wider now"}, format="json"
    )
    assert widened.status_code == 200 and widened.json()["revision"] == 2
    stale = client_of(alice).post(f"{URL}{exception.pk}/approve/", {"revision": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["error"] == "revision_changed"
    exception.refresh_from_db()
    assert exception.status == "requested" and exception.approved_by is None
    assert client_of(alice).post(f"{URL}{exception.pk}/approve/", {}, format="json").status_code == 400
    assert client_of(alice).post(f"{URL}{exception.pk}/approve/", {"revision": 2}, format="json").status_code == 200
    change = AuditEvent.objects.filter(action="change", object_id=str(exception.pk)).get()
    assert change.changes["revision"] == [1, 2]
