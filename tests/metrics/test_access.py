"""/metrics is off without PLIMSOLL_METRICS_TOKEN and answers only that bearer token."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.metrics.conftest import TOKEN

pytestmark = pytest.mark.django_db


def test_it_is_off_when_no_token_is_set(settings):
    settings.PLIMSOLL_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                    f"Bearer {TOKEN[:-1]}", "Bearer"])
def test_it_refuses_any_other_credential(header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"plimsoll_" not in response.content


def test_it_answers_the_token_in_the_prometheus_text_format(scrape):
    result = scrape()
    assert "# TYPE plimsoll_hosts gauge" in result.text
    assert "# TYPE plimsoll_evaluation_duration_seconds histogram" in result.text


def test_it_accepts_the_scheme_in_any_case():
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200


def test_it_answers_only_reads():
    response = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_it_is_not_cached_by_a_proxy():
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
