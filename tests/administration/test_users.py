"""Users and roles: create (with a password or a set-password link), set the role, deactivate, reactivate; audited
with names, never bare ids."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from audit.models import AuditEvent
from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from compliance.administration.models import AccountLimit

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-pass-phrase-9"


def _roles(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_it_creates_a_user_with_an_initial_password(admin_client, alice):
    response = admin_client.post("/administration/users/new/", {
        "username": "erin", "email": "erin@example.test", "first_name": "Erin", "role": SECURITY_MANAGER,
        "password_mode": "set", "password1": PASSWORD, "password2": PASSWORD,
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    erin = User.objects.get(username="erin")
    assert _roles(erin) == [SECURITY_MANAGER] and erin.check_password(PASSWORD) and erin.is_active
    event = AuditEvent.objects.get(action="create", object_id=str(erin.pk), content_type__model="user")
    assert event.actor == alice
    assert event.changes["role"] == [None, SECURITY_MANAGER] and event.changes["password"] == [None, "(set)"]
    assert erin.password not in str(event.changes)
    assert Client().post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 302


def test_it_creates_a_user_with_a_set_password_link_that_works_once(admin_client):
    response = admin_client.post("/administration/users/new/", {
        "username": "frank", "email": "frank@example.test", "role": AUDITOR, "password_mode": "link",
    })

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    frank = User.objects.get(username="frank")
    assert not frank.has_usable_password() and _roles(frank) == [AUDITOR]
    link = re.search(r"http://testserver(/administration/set-password/[^<\s]+)", response.content.decode()).group(1)

    visitor = Client()
    form_page = visitor.get(link, follow=True)
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    done = visitor.post(form_page.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/login/"
    frank.refresh_from_db()
    assert frank.check_password(PASSWORD)
    assert AuditEvent.objects.filter(object_id=str(frank.pk), changes__password=[None, "(set through the link)"]).exists()
    used = Client().get(link, follow=True)
    assert "This link is not valid" in used.content.decode()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "alice"}, "username", "exists already"),
    ({"username": "bad name!"}, "username", "valid username"),
    ({"password_mode": "set", "password1": "", "password2": ""}, "password1", "Type the initial password"),
    ({"password_mode": "set", "password1": PASSWORD, "password2": PASSWORD + "x"}, "password2", "differ"),
    ({"password_mode": "set", "password1": "123", "password2": "123"}, "password1", "too short"),
    ({"role": "root"}, "role", "valid choice"),
    ({"role": ADMIN, "scope": "pci=cde"}, "frameworks", "for auditors"),
    ({"scope": "env=prod,,!x=y"}, "scope", "bad label selector"),
    ({"valid_until": "2001-01-01"}, "valid_until", "has passed"),
])
def test_it_refuses_a_bad_user_with_a_field_error(admin_client, alice, data, field, message):
    post = {"username": "gina", "email": "", "role": AUDITOR, "password_mode": "link", **data}
    response = admin_client.post("/administration/users/new/", post)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert User.objects.count() == 1


def test_it_sets_the_role_and_records_role_names(admin_client, alice, bob):
    response = admin_client.post(f"/administration/users/{bob.pk}/role/", {"role": SECURITY_MANAGER})
    assert response.status_code == 302
    assert _roles(bob) == [SECURITY_MANAGER]
    event = AuditEvent.objects.get(action="change", object_id=str(bob.pk))
    assert event.actor == alice and event.changes == {"role": [AUDITOR, SECURITY_MANAGER]}

    other = Group.objects.create(name="newsletter")
    bob.groups.add(other)
    admin_client.post(f"/administration/users/{bob.pk}/role/", {"role": ADMIN})
    assert _roles(bob) == [ADMIN, "newsletter"]  # groups that are not roles stay
    assert admin_client.post(f"/administration/users/{bob.pk}/role/", {"role": ADMIN}).status_code == 302
    assert AuditEvent.objects.filter(action="change", object_id=str(bob.pk)).count() == 2  # no change, no record

    assert admin_client.post(f"/administration/users/{bob.pk}/role/", {"role": "root"}).status_code == 400


def test_an_admin_cannot_lock_themselves_out(admin_client, alice):
    response = admin_client.post(f"/administration/users/{alice.pk}/role/", {"role": AUDITOR})
    assert response.status_code == 409 and "another admin" in response.content.decode()
    response = admin_client.post(f"/administration/users/{alice.pk}/active/", {"active": "0"})
    assert response.status_code == 409
    alice.refresh_from_db()
    assert alice.is_active and _roles(alice) == [ADMIN]


def test_it_deactivates_and_reactivates_and_the_user_is_locked_out(admin_client, alice, carol, api_client_for):
    token_client = api_client_for(carol)
    session = Client()
    session.force_login(carol)
    assert session.get("/exceptions/").status_code == 200

    assert admin_client.post(f"/administration/users/{carol.pk}/active/", {"active": "0"}).status_code == 302
    carol.refresh_from_db()
    assert not carol.is_active
    assert session.get("/exceptions/").status_code == 302  # the session no longer logs her in
    assert token_client.get("/api/v1/exceptions/").status_code == 401
    assert Client().post("/login/", {"username": "carol", "password": "pw-carol"}).status_code == 200
    event = AuditEvent.objects.get(action="change", object_id=str(carol.pk), actor=alice)
    assert event.changes == {"is_active": [True, False]}

    assert admin_client.post(f"/administration/users/{carol.pk}/active/", {"active": "1"}).status_code == 302
    carol.refresh_from_db()
    assert carol.is_active and token_client.get("/api/v1/exceptions/").status_code == 200
    assert admin_client.post(f"/administration/users/{carol.pk}/active/", {"active": "maybe"}).status_code == 400


def test_it_sets_and_clears_account_limits(admin_client, alice, bob, catalogs):
    url = f"/administration/users/{bob.pk}/limits/"
    response = admin_client.post(url, {"valid_until": "2099-12-31", "frameworks": ["pci-dss-4.0"], "scope": " pci=cde "})
    assert response.status_code == 302, response.content.decode()[:3000]
    limit = AccountLimit.objects.get(user=bob)
    assert limit.expires_at.isoformat() == "2100-01-01T00:00:00+00:00"
    assert limit.frameworks == ["pci-dss-4.0"] and limit.scope == "pci=cde"
    event = AuditEvent.objects.get(action="change", object_id=str(bob.pk))
    assert event.changes == {"expires_at": [None, "2100-01-01T00:00:00+00:00"], "frameworks": [[], ["pci-dss-4.0"]],
                             "scope": ["", "pci=cde"]}
    page = admin_client.get(f"/administration/users/{bob.pk}/").content.decode()
    assert 'value="2099-12-31"' in page and "pci=cde" in page

    assert admin_client.post(url, {"frameworks": ["no-such-framework"]}).status_code == 400
    assert admin_client.post(url, {}).status_code == 302
    limit.refresh_from_db()
    assert not limit.is_limited


def test_scope_limits_are_refused_for_managers(admin_client, carol):
    response = admin_client.post(f"/administration/users/{carol.pk}/limits/", {"scope": "pci=cde"})
    assert response.status_code == 409 and "for auditors" in response.content.decode()
    assert not AccountLimit.objects.filter(user=carol).exists()


def test_it_lists_users_with_role_status_and_limits(admin_client, alice, bob, carol, charlie, limited_auditor,
                                                    django_assert_max_num_queries):
    limited_auditor("olga", expires_in=-1)
    for i in range(10):
        User.objects.create_user(f"user{i}").groups.add(Group.objects.get(name=AUDITOR))
    with django_assert_max_num_queries(8):
        page = admin_client.get("/administration/users/")
    html = page.content.decode()
    assert page.status_code == 200 and "user9" in html
    olga = html[html.index(">olga<"):]
    olga = olga[: olga.index("</tr>")]
    assert "expired" in olga and "Auditor" in olga
    charlie_row = html[html.index(">charlie<"):]
    assert "No role" in charlie_row[: charlie_row.index("</tr>")]
    assert ">bob<" in admin_client.get("/administration/users/?role=auditor").content.decode()
    assert ">bob<" not in admin_client.get("/administration/users/?role=admin").content.decode()
    assert ">charlie<" in admin_client.get("/administration/users/?role=none").content.decode()


def test_only_admins_manage_users(bob, carol):
    for user in (bob, carol):
        client = Client()
        client.force_login(user)
        assert client.get("/administration/users/").status_code == 403
        assert client.post(f"/administration/users/{bob.pk}/role/", {"role": ADMIN}).status_code == 403
        assert client.post("/administration/users/new/", {"username": "x", "role": ADMIN}).status_code == 403
    assert _roles(bob) == [AUDITOR]


def test_the_user_page_keeps_the_logged_in_admin_in_the_header(admin_client, bob):
    page = admin_client.get(f"/administration/users/{bob.pk}/")
    assert page.status_code == 200 and page.context["user"].username == "alice"
    assert page.context["subject"].username == "bob"
