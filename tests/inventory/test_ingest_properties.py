"""Generated snapshots (Hypothesis): whatever value lands in whatever field, ingest answers 201 and every read of
it works, or 400 naming a field and nothing is stored. Never 5xx (issue 12: strings, numbers, nesting).

Timestamps have their own generated tests in test_timestamps.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from inventory.models import AgentToken, Snapshot
from tests.conftest import load_sample, sample_snapshots

URL = "/api/v1/snapshots/"
pytestmark = pytest.mark.django_db

SAMPLE: dict[str, Any] = load_sample(sample_snapshots()[0].name)

# Raw JSON texts the json module of a client would not write, but a broken or hostile agent may send.
ODD_TEXTS = st.sampled_from([
    '"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"nul\\u0000in"', '"\\ud83d\\ude00"', "1" + "0" * 4400, "-" + "9" * 4301,
    "1e400", "-1e400", "1.5e-400", "123456789012345678901234567890", "-0", "0.1", "[]", "{}", "null", "true",
    "[" * 300 + "]" * 300, '{"a":' * 200 + "1" + "}" * 200, '""', '"' + "x" * 70000 + '"',
])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in the document, objects' keys and lists' indexes (up to a depth that covers inspect)."""
    found = [prefix] if prefix else []
    if len(prefix) >= 7:
        return found
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:2]):
            found += _paths(child, (*prefix, index))
    return found


PATHS = _paths(SAMPLE)
MARK = "\u2063plimsoll-odd\u2063"


def _post(client: APIClient, body: str) -> Any:
    return client.generic("POST", URL, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")


def _check(client: APIClient, reader: APIClient, response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 403:  # a changed machine id the token is not bound to (test_token_binding.py)
        assert response.json()["detail"]
        return
    if response.status_code == 400:
        detail = response.json()["detail"]
        assert detail["path"] and detail["reason"], detail
        return
    assert response.status_code in (200, 201), response.content[:500]
    for path in ("/api/v1/hosts/", "/api/v1/snapshots/", "/api/v1/containers/", "/api/v1/images/",
                 f"/api/v1/snapshots/{response.json()['id']}/"):
        assert reader.get(path).status_code == 200, path


@pytest.fixture
def clients(db: None, alice: Any) -> tuple[APIClient, APIClient]:
    from rest_framework.authtoken.models import Token

    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Bearer {AgentToken.issue('fuzz', fleet=True)[1]}")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    return agent, reader


def _replace(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SAMPLE)
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(path=st.sampled_from(PATHS), value=JSON_VALUES)
def test_any_value_in_any_field_is_stored_or_refused_by_name(clients, path, value):
    agent, reader = clients
    before = Snapshot.objects.count()
    response = _post(agent, json.dumps(_replace(path, value)))
    _check(agent, reader, response)
    if response.status_code == 400:
        assert Snapshot.objects.count() == before


@FUZZ
@given(path=st.sampled_from(PATHS), odd=ODD_TEXTS)
def test_odd_json_texts_in_any_field_are_stored_or_refused_by_name(clients, path, odd):
    agent, reader = clients
    before = Snapshot.objects.count()
    body = json.dumps(_replace(path, MARK)).replace(json.dumps(MARK), odd, 1)
    response = _post(agent, body)
    _check(agent, reader, response)
    if response.status_code == 400:
        assert Snapshot.objects.count() == before
