"""Time-limited and scoped auditor accounts: after the end of access no login, no API token, no session (each refusal
audited); a scoped auditor gets 403 on other frameworks and their label scope is ANDed with the one asked for."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from common.scope import SelectorError
from compliance.administration.limits import NO_LIMITS, AccessLimits, limits_for
from compliance.administration.models import AccountLimit

pytestmark = pytest.mark.django_db


def _denials(user: User) -> list[str]:
    return [e.changes["action"][1] for e in AuditEvent.objects.filter(action="deny", object_id=str(user.pk)).order_by("id")]


def test_an_expired_account_cannot_log_in_and_the_refusal_is_audited(limited_auditor):
    olga = limited_auditor("olga", expires_in=-0.01)
    response = Client().post("/login/", {"username": "olga", "password": "pw-olga"})

    assert response.status_code == 200 and response.context["form"].errors  # the form refuses, as for a wrong password
    assert _denials(olga) == ["login"]
    deny = AuditEvent.objects.get(action="deny")
    assert deny.changes["reason"][1].startswith("access ended ") and deny.ip == "127.0.0.1"
    assert AuditEvent.objects.filter(action="login_failed", actor_username="olga").exists()
    assert not AuditEvent.objects.filter(action="login").exists()


def test_an_account_still_valid_logs_in(limited_auditor):
    limited_auditor("olga", expires_in=1)
    assert Client().post("/login/", {"username": "olga", "password": "pw-olga"}).status_code == 302


def test_a_wrong_password_of_an_expired_account_reveals_nothing_and_is_not_a_denial(limited_auditor):
    olga = limited_auditor("olga", expires_in=-1)
    assert Client().post("/login/", {"username": "olga", "password": "wrong"}).status_code == 200
    assert _denials(olga) == []


def test_an_expired_account_cannot_use_its_api_token(limited_auditor, api_client_for, catalogs):
    olga = limited_auditor("olga", expires_in=1)
    client = api_client_for(olga)
    assert client.get("/api/v1/posture/pci-dss-4.0/").status_code == 200

    AccountLimit.objects.filter(user=olga).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/posture/pci-dss-4.0/")

    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed" and "access ended" in response.json()["detail"]
    assert _denials(olga) == ["api token"]


def test_an_existing_session_stops_working_when_access_ends(limited_auditor):
    olga = limited_auditor("olga", expires_in=1)
    client = Client()
    assert client.post("/login/", {"username": "olga", "password": "pw-olga"}).status_code == 302
    assert client.get("/exceptions/").status_code == 200
    assert client.get("/api/v1/exceptions/").status_code == 200

    AccountLimit.objects.filter(user=olga).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/exceptions/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session  # the session is ended, not just refused once
    assert client.get("/api/v1/exceptions/").status_code in (401, 403)
    assert _denials(olga) == ["session"]  # recorded once: later requests are anonymous


def test_a_limited_auditor_gets_403_on_other_frameworks(limited_auditor, api_client_for, catalogs):
    olga = limited_auditor("olga", frameworks=["pci-dss-4.0"])
    client = api_client_for(olga)

    assert client.get("/api/v1/posture/pci-dss-4.0/").status_code == 200
    refused = client.get("/api/v1/posture/gdpr/")
    assert refused.status_code == 403
    assert refused.json() == {"error": "permission_denied", "detail": {"framework": "this account may not read 'gdpr'"}}


def test_a_scoped_auditor_sees_only_their_hosts_whatever_scope_they_ask(limited_auditor, api_client_for, judged_host, bob):
    judged_host("cde-prod", {"2.5": ["fail"]}, labels={"pci": "cde", "env": "prod"})
    judged_host("cde-dev", {"2.5": ["pass"]}, labels={"pci": "cde", "env": "dev"})
    judged_host("office", {"2.5": ["fail"]}, labels={"env": "prod"})
    olga = api_client_for(limited_auditor("olga", scope="pci=cde"))
    everyone = api_client_for(bob)

    def hosts(client, scope: str = "") -> tuple[str, int]:  # type: ignore[no-untyped-def]
        body = client.get("/api/v1/posture/pci-dss-4.0/", {"scope": scope} if scope else {}).json()
        return body["scope"], body["summary"]["hosts"]

    assert hosts(everyone) == ("", 3)
    assert hosts(olga) == ("pci=cde", 2)
    assert hosts(everyone, "env=prod") == ("env=prod", 2)
    assert hosts(olga, "env=prod") == ("pci=cde,env=prod", 1)  # ANDed, not replaced
    assert hosts(olga, "pci!=cde") == ("pci=cde,pci!=cde", 0)  # asking around the scope selects nothing
    bad = olga.get("/api/v1/posture/pci-dss-4.0/", {"scope": "a=b=c"})
    assert bad.status_code == 400 and "scope" in bad.json()["detail"]


def test_limits_for_reads_the_account_row(limited_auditor, alice, bob):
    olga = limited_auditor("olga", frameworks=["gdpr", "pci-dss-4.0"], scope="pci=cde")
    assert limits_for(olga) == AccessLimits(frameworks=frozenset({"gdpr", "pci-dss-4.0"}), scope="pci=cde")
    assert limits_for(bob) is NO_LIMITS and limits_for(None) is NO_LIMITS
    User.objects.filter(pk=olga.pk).update(is_superuser=True)
    assert limits_for(User.objects.get(pk=olga.pk)) is NO_LIMITS
    AccountLimit.objects.create(user=alice, expires_at=timezone.now() + datetime.timedelta(days=1))
    assert limits_for(User.objects.get(pk=alice.pk)) == NO_LIMITS  # an end of access limits no reading


def test_scope_with_combines_terms_and_names_a_bad_selector():
    limits = AccessLimits(scope="pci=cde")
    assert limits.scope_with("") == "pci=cde"
    assert limits.scope_with("pci=cde,env=prod") == "pci=cde,env=prod"
    assert NO_LIMITS.scope_with("env=prod") == "env=prod"
    with pytest.raises(SelectorError):
        limits.scope_with("a=b=c")
    assert not AccessLimits(frameworks=frozenset({"gdpr"})).allows("pci-dss-4.0") and NO_LIMITS.allows("gdpr")
