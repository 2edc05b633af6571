"""The login page and the host pages."""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.choices import EvaluationStatus
from inventory.models import Snapshot
from inventory.services import ingest_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosts(snapshot_doc, agent_token):
    from tests.conftest import sample_snapshots

    return [ingest_snapshot(snapshot_doc(i), agent_token[0]).snapshot.host for i in range(len(sample_snapshots()))]


def test_it_sends_anonymous_users_to_the_login_page(hosts):
    response = Client().get("/hosts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_logs_in_with_the_form_and_shows_the_hosts(hosts, bob):
    client = Client()
    response = client.post("/login/", {"username": "bob", "password": "pw-bob", "next": "/hosts/"})
    assert response.status_code == 302 and response["Location"] == "/hosts/"
    page = client.get("/hosts/")
    assert page.status_code == 200
    html = page.content.decode()
    for host in hosts:
        assert host.hostname in html
        assert f">{host.last_snapshot.container_count}<" in html


def test_it_rejects_a_wrong_password(bob):
    response = Client().post("/login/", {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_it_shows_a_host_with_its_containers(hosts, bob):
    client = Client()
    client.force_login(bob)
    host = hosts[0]
    # The page names the evidence of the snapshot that stands for the host: its latest judged one.
    Snapshot.objects.update(evaluation_status=EvaluationStatus.DONE)
    page = client.get(f"/hosts/{host.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for container in host.last_snapshot.containers.all():
        assert container.name in html
    assert host.last_snapshot.sha256 in html


def test_it_lists_hosts_in_a_bounded_number_of_queries(hosts, bob, django_assert_max_num_queries):
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(8):
        assert client.get("/hosts/").status_code == 200


def test_it_explains_how_to_enrol_an_agent_when_no_host_reported(bob):
    client = Client()
    client.force_login(bob)
    assert "create_agent_token" in client.get("/hosts/").content.decode()


def test_it_refuses_the_pages_to_a_user_without_a_role(hosts, charlie):
    client = Client()
    client.force_login(charlie)
    assert client.get("/hosts/").status_code == 403
    assert client.get(f"/hosts/{hosts[0].pk}/").status_code == 403


def test_it_lets_an_admin_label_a_host_from_its_page(hosts, alice, bob):
    host = hosts[0]
    client = Client()
    client.force_login(alice)
    response = client.post(f"/hosts/{host.pk}/labels/", {"labels": "pci=cde\n# comment\nenv = prod\n"}, follow=True)
    assert "Labels saved." in response.content.decode()
    host.refresh_from_db()
    assert host.labels == {"pci": "cde", "env": "prod"}
    assert "pci=cde" in response.content.decode()
    client.post(f"/hosts/{host.pk}/labels/", {"labels": "no equals sign"})
    host.refresh_from_db()
    assert host.labels == {"pci": "cde", "env": "prod"}
    auditor = Client()
    auditor.force_login(bob)
    assert auditor.post(f"/hosts/{host.pk}/labels/", {"labels": "x=y"}).status_code == 403
    assert "Edit the labels" not in auditor.get(f"/hosts/{host.pk}/").content.decode()
