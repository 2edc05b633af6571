"""One RFC 3339 parser for the timestamps of a snapshot, for validation and storage alike (snapshot_format)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from inventory.models import Container, Host, Image, Network, Snapshot
from inventory.snapshot_format import SnapshotRejected, parse_rfc3339, stored_time

URL = "/api/v1/snapshots/"
PODMAN = "2023-03-14T09:26:53.58979323-04:00"

# Whole-minute offsets, as RFC 3339 writes them (hours 00-23, minutes 00-59).
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


def in_range(moment: datetime) -> bool:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def rfc3339(moment: datetime, separator: str, zulu: str, extra_digits: str) -> str:
    """`moment` written as RFC 3339 with the variations the grammar allows (the fraction may be longer than 6)."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0 and zulu:
        zone = zulu
    else:
        sign = "-" if minutes < 0 else "+"
        zone = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    fraction = f".{moment.microsecond:06d}{extra_digits}" if moment.microsecond or extra_digits else ""
    # %Y does not pad years before 1000 on every platform; RFC 3339 wants four digits.
    date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return f"{date}{separator}{moment:%H:%M:%S}{fraction}{zone}"


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=offsets),
    separator=st.sampled_from(["T", "t", " "]),
    zulu=st.sampled_from(["", "Z", "z"]),
    extra_digits=st.text("0123456789", max_size=6),
)
@example(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "T", "", "")
@example(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-4))), "T", "", "")
@example(datetime(1, 1, 1, tzinfo=UTC), "T", "Z", "")
def test_it_parses_back_any_moment_in_range_written_as_rfc3339(
    moment: datetime, separator: str, zulu: str, extra_digits: str
) -> None:
    text = rfc3339(moment, separator, zulu, extra_digits)
    if in_range(moment):
        parsed = parse_rfc3339(text, "t")
        assert parsed == moment and parsed.utcoffset() == moment.utcoffset()
    else:
        with pytest.raises(SnapshotRejected, match="outside the years 1 to 9999"):
            parse_rfc3339(text, "t")


@given(st.one_of(
    st.text(),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,12})?([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"),
    st.integers(), st.none(), st.floats(), st.lists(st.text(max_size=3), max_size=2),
))
@example("0001-01-01T00:30:00+01:00")
@example("9999-12-31T23:59:59-04:00")
@example("2026-02-29T00:00:00Z")
@example("٢٠٢٦-12-01T10:00:00Z")
def test_it_raises_nothing_but_snapshot_rejected(value: Any) -> None:
    try:
        parsed = parse_rfc3339(value, "where")
    except SnapshotRejected as exc:
        assert exc.path == "where" and exc.reason
    else:
        assert parsed.tzinfo is not None and in_range(parsed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PODMAN, datetime(2023, 3, 14, 13, 26, 53, 589793, tzinfo=UTC)),
        ("2026-12-01T07:58:50.963767541Z", datetime(2026, 12, 1, 7, 58, 50, 963767, tzinfo=UTC)),
        ("2026-12-01t07:58:50z", datetime(2026, 12, 1, 7, 58, 50, tzinfo=UTC)),
        ("2026-12-01 07:58:50+01:00", datetime(2026, 12, 1, 6, 58, 50, tzinfo=UTC)),
        ("2026-12-01T07:58:50-00:00", datetime(2026, 12, 1, 7, 58, 50, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2016-12-31T18:59:60.5-05:00", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_it_accepts_what_rfc3339_allows(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text, "t") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "not an RFC 3339 timestamp"),
        ("2026-12-01T10:00:00", "no time zone offset"),
        ("2026-12-01T10:00Z", "not an RFC 3339 timestamp"),
        ("2026-12-01T10:00:00.Z", "not an RFC 3339 timestamp"),
        ("2026-12-01T10:00:00+0100", "not an RFC 3339 timestamp"),
        ("2026-12-01T10:00:00Z\n", "not an RFC 3339 timestamp"),
        ("2026-02-29T10:00:00Z", "not a valid date and time"),
        ("2026-12-01T24:00:00Z", "not a valid date and time"),
        ("2026-12-01T10:61:00Z", "not a valid date and time"),
        ("2026-12-01T10:00:61Z", "not a valid date and time"),
        ("2026-12-01T10:00:00+24:00", "offset out of range"),
        ("2026-12-01T10:00:00+01:60", "offset out of range"),
        ("0001-01-01T00:30:00+01:00", "outside the years 1 to 9999"),
        ("9999-12-31T23:59:59-04:00", "outside the years 1 to 9999"),
    ],
)
def test_it_rejects_what_is_not_rfc3339_or_out_of_range(text: str, reason: str) -> None:
    with pytest.raises(SnapshotRejected, match=reason):
        parse_rfc3339(text, "t")


@pytest.mark.parametrize("unknown", [None, "", "0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00"])
def test_it_stores_an_unknown_time_as_null(unknown: Any) -> None:
    assert stored_time(unknown, "t") is None


def post(client: Any, doc: dict[str, Any]) -> Any:
    return client.generic("POST", URL, data=json.dumps(doc).encode(), content_type="application/json")


def stored_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Host, Snapshot, Container, Image, Network))


BAD = ["yesterday", "2026-02-30T10:00:00Z", "2026-12-01T10:00:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-04:00"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("where", ["container", "image", "collected_at"])
def test_it_answers_400_naming_the_field_of_a_bad_timestamp_and_stores_nothing(agent_client, snapshot_doc, where, value):
    doc = snapshot_doc()
    if where == "container":
        doc["docker"]["containers"][1]["inspect"]["Created"] = value
        path = "docker.containers[1].inspect.Created"
    elif where == "image":
        doc["docker"]["images"][0]["inspect"]["Created"] = value
        path = "docker.images[0].inspect.Created"
    else:
        doc["agent"]["collected_at"] = value
        path = "agent.collected_at"
    response = post(agent_client, doc)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"
    assert response.json()["detail"]["path"] == path
    assert stored_counts() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_it_stores_the_podman_form_and_other_valid_forms(agent_client, snapshot_doc, bob, api_client_for):
    doc = snapshot_doc()
    containers = doc["docker"]["containers"]
    containers[0]["inspect"]["Created"] = PODMAN
    containers[1]["inspect"]["Created"] = "2016-12-31t23:59:60z"
    containers[2]["inspect"]["Created"] = "0001-01-01T00:00:00Z"
    doc["docker"]["images"][0]["inspect"]["Created"] = None
    doc["agent"]["collected_at"] = "2026-12-01 07:58:58.407915123z"
    response = post(agent_client, doc)
    assert response.status_code == 201, response.content
    snapshot = Snapshot.objects.get()
    assert snapshot.collected_at == datetime(2026, 12, 1, 7, 58, 58, 407915, tzinfo=UTC)
    created = {c.position: c.created for c in snapshot.containers.all()}
    assert created[0] == datetime(2023, 3, 14, 13, 26, 53, 589793, tzinfo=UTC)
    assert created[1] == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert created[2] is None
    assert snapshot.images.get().created is None
    # Every stored time reads back, through the API as through the ORM.
    client = api_client_for(bob)
    assert client.get("/api/v1/containers/").status_code == 200
    assert client.get(f"/api/v1/snapshots/{snapshot.pk}/").status_code == 200


@pytest.mark.django_db
def test_it_still_accepts_every_sample_with_the_zero_time_in_it(agent_client, snapshot_doc):
    from tests.conftest import sample_snapshots

    for index in range(len(sample_snapshots())):
        doc = snapshot_doc(index)
        assert "0001-01-01T00:00:00Z" in json.dumps(doc)
        assert post(agent_client, doc).status_code == 201
    assert Container.objects.filter(created=None).count() == 0
