"""The HTML pages under /frameworks/."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from frameworks.loader import LoadReport


def test_it_sends_anonymous_visitors_to_log_in(catalogs: LoadReport, client: Client) -> None:
    response = client.get("/frameworks/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("url", ["/frameworks/", "/frameworks/pci-dss-4.0/", "/frameworks/cis-docker-1.6.0/2.7/"])
def test_it_refuses_a_user_without_a_role(catalogs: LoadReport, charlie: User, url: str) -> None:
    client = Client()
    client.force_login(charlie)

    response = client.get(url)

    assert response.status_code == 403
    assert b"PCI DSS" not in response.content


def test_it_shows_the_frameworks_to_an_auditor(catalogs: LoadReport, bob: User) -> None:
    client = Client()
    client.force_login(bob)

    assert client.get("/frameworks/pci-dss-4.0/").status_code == 200


def test_it_lists_frameworks(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/frameworks/")

    assert response.status_code == 200
    assert b"PCI DSS" in response.content
    assert b'href="/frameworks/hipaa-security-rule/"' in response.content


def test_it_shows_a_framework_tree_with_mapped_cis_recommendations(
    catalogs: LoadReport, alice_client: Client, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(8):
        response = alice_client.get("/frameworks/pci-dss-4.0/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/frameworks/pci-dss-4.0/2.2.7/"' in page
    assert 'href="/frameworks/cis-docker-1.6.0/2.7/"' in page


def test_it_shows_a_cis_recommendation_with_what_it_maps_to(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/frameworks/cis-docker-1.6.0/2.7/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure TLS authentication for Docker daemon is configured" in page
    assert "Manual" in page and "Level 1" in page
    for heading in ("PCI DSS 4.0", "HIPAA Security Rule", "General Data Protection Regulation"):
        assert heading in page
    assert 'href="/frameworks/hipaa-security-rule/164.312(d)/"' in page
    assert "Remote Docker API use is non-console administrative access" in page


def test_it_shows_a_requirement_with_its_mapped_cis_recommendations(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/frameworks/gdpr/32(1)(b)/")

    assert response.status_code == 200
    assert b"Mapped CIS recommendations" in response.content
    assert b'href="/frameworks/cis-docker-1.6.0/5.5/"' in response.content


def test_it_answers_404_for_an_unknown_requirement(catalogs: LoadReport, alice_client: Client) -> None:
    assert alice_client.get("/frameworks/gdpr/100/").status_code == 404
    assert alice_client.get("/frameworks/nope/").status_code == 404
