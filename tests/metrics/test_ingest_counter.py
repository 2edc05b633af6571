"""Ingest answers by HTTP status code, counted by the middleware in the process that answered."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_it_counts_every_answer_to_a_push_by_code(scrape, agent_client, snapshot_doc):
    before = scrape()
    body = json.dumps(snapshot_doc())
    assert agent_client.post("/api/v1/snapshots/", body, content_type="application/json").status_code == 201
    assert agent_client.post("/api/v1/snapshots/", body, content_type="application/json").status_code == 200
    assert agent_client.post("/api/v1/snapshots/", "{", content_type="application/json").status_code == 400
    assert APIClient().post("/api/v1/snapshots/", body, content_type="application/json").status_code == 401
    after = scrape()
    for code in ("201", "200", "400", "401"):
        assert after.get("plimsoll_ingest_responses_total", code=code) - before.get(
            "plimsoll_ingest_responses_total", code=code) == 1, code


def test_it_counts_nothing_but_pushes(scrape, agent_client, alice, api_client_for):
    before = scrape()
    api_client_for(alice).get("/api/v1/snapshots/")
    agent_client.post("/api/v1/hosts/", "{}", content_type="application/json")
    after = scrape()
    codes = {s["code"] for s in after.series("plimsoll_ingest_responses_total")}
    assert all(after.get("plimsoll_ingest_responses_total", code=c) == before.get("plimsoll_ingest_responses_total", code=c)
               for c in codes)
