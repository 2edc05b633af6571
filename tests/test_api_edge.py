"""The API's edge: odd JSON is a 400 naming the problem on every endpoint, throttles answer 429 with Retry-After,
and every answer carries a Permissions-Policy."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
ODD_BODIES = [DEEP, '{"note": "\\ud800"}', '{"note": ' + "9" * 5000 + "}", '{"note": NaN}', ""]


@pytest.mark.parametrize("body", ODD_BODIES, ids=["deep", "lone-surrogate", "huge-int", "nan", "empty"])
@pytest.mark.parametrize("url", ["/api/v1/exceptions/", "/api/v1/exceptions/1/approve/", "/api/v1/hosts/1/labels/"])
def test_it_answers_400_to_odd_json(alice, url, body):
    client = APIClient()
    client.force_authenticate(alice)
    method = client.put if url.endswith("/labels/") else client.post
    response = method(url, body, content_type="application/json")
    assert response.status_code in (400, 404), response.content[:300]
    if response.status_code == 400:
        assert response.json()["error"] in ("parse_error", "invalid")


def test_it_throttles_with_retry_after(settings, alice):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], user="3/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient()
    client.force_authenticate(alice)
    codes = [client.get("/api/v1/hosts/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/hosts/")
    assert refused.json()["error"] == "throttled" and int(refused["Retry-After"]) > 0


def test_it_sends_a_permissions_policy(client):
    assert "camera=()" in client.get("/login/")["Permissions-Policy"]


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_it_answers_options_on_the_api_docs_without_an_error(client, alice, url):
    client.force_login(alice)
    assert client.options(url).status_code == 405
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("body", ODD_BODIES, ids=["deep", "lone-surrogate", "huge-int", "nan", "empty"])
def test_it_answers_400_to_odd_json_on_existing_objects_and_evidence(alice, carol, body, agent_client, snapshot_doc):
    """The same bodies where the object exists (no 404 to hide behind), and on the evidence endpoint."""
    import datetime
    import json

    from django.utils import timezone

    from compliance.exceptions.services import request_exception
    from inventory.models import Host

    assert agent_client.generic("POST", "/api/v1/snapshots/", json.dumps(snapshot_doc()),
                                content_type="application/json").status_code == 201
    host = Host.objects.get()
    exception = request_exception(by=carol, control="2.5", justification="x", risk_rating="low", scope_kind="all",
                                  expires_at=timezone.now() + datetime.timedelta(days=7))
    client = APIClient()
    client.force_authenticate(alice)
    for method, url in ((client.post, f"/api/v1/exceptions/{exception.pk}/approve/"),
                        (client.put, f"/api/v1/hosts/{host.pk}/labels/"), (client.post, "/api/v1/evidence/"),
                        (client.post, "/api/v1/exceptions/")):
        response = method(url, body, content_type="application/json")
        assert response.status_code in (400, 415), (url, response.content[:300])
        assert response.json()["error"], url
    exception.refresh_from_db()
    assert exception.status == "requested" and host.labels == Host.objects.get(pk=host.pk).labels


def test_the_browsable_evidence_api_renders_for_managers_and_admins(alice, carol):
    for user in (alice, carol):
        client = APIClient()
        client.force_authenticate(user)
        response = client.get("/api/v1/evidence/", HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and b"<form" in response.content, user.username
