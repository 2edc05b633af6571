"""Inventory records are keyed by row_digest: its fast path (orjson) must write the very bytes of the standard one
(json.dumps, sorted keys, no spaces, UTF-8), or records stored before it would be stored twice."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.rowsets import _standard_json, row_digest

_offsets = st.builds(
    lambda sign, hours, minutes: timezone(sign * timedelta(hours=hours, minutes=minutes)),
    st.sampled_from([1, -1]), st.integers(0, 23), st.integers(0, 59),
)
_times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | st.just(UTC) | _offsets,
)
_text = st.text(st.characters(codec="utf-8"), max_size=20)  # any character a JSON document can carry, controls too
_values = (
    _text | st.booleans() | st.none() | st.integers(-(2**63), 2**64 - 1) | st.integers() | _times
    | st.lists(_text, max_size=4)
    | st.lists(_text | st.floats(allow_nan=False, allow_infinity=False) | st.integers(), max_size=4)
    | st.text(max_size=4)  # lone surrogates: the standard path only
)


def _expected(row: dict[str, object]) -> str:
    return hashlib.sha256(_standard_json(row).encode("utf-8", "surrogatepass")).hexdigest()


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "tags", "created", "size", "running", "Ω", "a b"]), _values))
def test_the_digest_is_that_of_the_standard_json(row):
    try:
        expected = _expected(row)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot be stored (PostgreSQL text is UTF-8); ingest rejects it before
    assert row_digest(row) == expected


def test_the_rows_ingest_builds_take_the_fast_path_with_the_same_bytes(monkeypatch):
    row = {
        "container_id": "a" * 64, "name": "web\u00e9\u2028\x7f", "image": "nginx:1.25", "image_id": "sha256:" + "b" * 64,
        "state": "running", "running": True, "created": datetime(2026, 3, 1, 12, 0, 0, 120000, tzinfo=UTC),
    }
    image = {"image_id": "x", "tags": ["a:1", "b\n"], "created": None, "size": 2**63 - 1}
    expected = [_expected(row), _expected(image)]
    monkeypatch.setattr("inventory.rowsets._standard_json", lambda row: pytest.fail("took the standard path"))
    assert [row_digest(row), row_digest(image)] == expected
    monkeypatch.undo()
    assert row_digest({"image_id": "x", "tags": ["a:1", "b\n"], "created": None, "size": 2**63 - 1}) == _expected(
        {"image_id": "x", "tags": ["a:1", "b\n"], "created": None, "size": 2**63 - 1}
    )
    # A float in a list, or an integer past 64 bits, goes the standard way: the same digest as before.
    assert row_digest({"tags": [1e16, 1e-07, 0.1]}) == _expected({"tags": [1e16, 1e-07, 0.1]})
    assert row_digest({"size": 2**70}) == _expected({"size": 2**70})
