import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inventory.agent.push import (
    Answer,
    AuthRejected,
    Pusher,
    ServerRefused,
    ServerUnreachable,
    backoff_delay,
    post_snapshot,
)
from inventory.agent.spool import Spool
from tests.agent.conftest import StubServer, unused_port


def doc(n: int) -> dict[str, Any]:
    return {"schema": "plimsoll.snapshot/v1", "agent": {"collected_at": f"2026-12-01T10:00:0{n}Z"}, "n": n}


def scripted(*outcomes: int | Exception) -> tuple[Callable[[str, str, bytes], Answer], list[bytes]]:
    sent: list[bytes] = []
    queue = list(outcomes)

    def post(url: str, token: str, body: bytes) -> Answer:
        sent.append(body)
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(outcome, Exception):
            raise outcome
        body = {"id": 1, "evaluation": "queued"} if outcome in (200, 201) else {"status": outcome}
        return Answer(outcome, json.dumps(body).encode())

    return post, sent


def pusher(spool: Spool, post: Callable[[str, str, bytes], Answer], retries: int = 3) -> tuple[Pusher, list[float]]:
    sleeps: list[float] = []
    return Pusher("http://plimsoll.test", "tok", spool, retries=retries, sleep=sleeps.append, post=post), sleeps


@pytest.mark.parametrize("attempt", range(10))
def test_it_backs_off_exponentially_with_jitter_within_bounds(attempt: int) -> None:
    ceiling = min(60.0, 1.0 * 2**attempt)

    low = backoff_delay(attempt, base=1.0, cap=60.0, rand=lambda: 0.0)
    high = backoff_delay(attempt, base=1.0, cap=60.0, rand=lambda: 0.999999)
    drawn = [backoff_delay(attempt, base=1.0, cap=60.0) for _ in range(200)]

    assert low == ceiling / 2
    assert ceiling / 2 < high <= ceiling
    assert all(ceiling / 2 <= d <= ceiling for d in drawn)
    assert len(set(drawn)) > 1


def test_it_doubles_the_delay_until_the_cap() -> None:
    schedule = [backoff_delay(n, base=0.5, cap=8.0, rand=lambda: 1.0) for n in range(7)]

    assert schedule == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_it_retries_when_the_server_is_away_then_delivers(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.add(doc(1))
    post, sent = scripted(ConnectionRefusedError(111, "refused"), 503, 201)
    p, sleeps = pusher(spool, post)

    result = p.push_all()

    assert len(result.delivered) == 1
    assert len(sent) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    assert spool.pending() == []


def test_it_keeps_everything_spooled_when_retries_run_out(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    paths = [spool.add(doc(n)) for n in range(3)]
    post, sent = scripted(ConnectionRefusedError(111, "Connection refused"))
    p, sleeps = pusher(spool, post, retries=2)

    with pytest.raises(ServerUnreachable, match="cannot reach the server at http://plimsoll.test"):
        p.push_all()

    assert spool.pending() == paths
    assert len(sent) == 3 and len(sleeps) == 2


def test_it_counts_200_for_an_already_stored_snapshot_as_delivered(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.add(doc(1))
    spool.add(doc(2))
    post, sent = scripted(200, 201)
    p, _ = pusher(spool, post)

    result = p.push_all()

    assert len(result.delivered) == 2
    assert [json.loads(b)["n"] for b in sent] == [1, 2]


@pytest.mark.parametrize("status", [400, 413])
def test_it_moves_a_rejected_snapshot_aside_and_goes_on(tmp_path: Path, status: int) -> None:
    spool = Spool(tmp_path)
    first = spool.add(doc(1))
    spool.add(doc(2))
    post, _ = scripted(status, 201)
    p, sleeps = pusher(spool, post)

    result = p.push_all()

    assert result.rejected == [tmp_path / "rejected" / first.name]
    assert len(result.delivered) == 1
    assert (tmp_path / "rejected" / first.name.replace(".json", ".answer.json")).exists()
    assert sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_it_stops_at_once_when_the_token_is_refused(tmp_path: Path, status: int) -> None:
    spool = Spool(tmp_path)
    paths = [spool.add(doc(1)), spool.add(doc(2))]
    post, sent = scripted(status)
    p, sleeps = pusher(spool, post)

    with pytest.raises(AuthRejected, match=f"refused the agent token \\({status}\\)"):
        p.push_all()

    assert len(sent) == 1 and sleeps == []
    assert spool.pending() == paths


def test_it_does_not_reject_a_snapshot_for_a_wrong_url(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    path = spool.add(doc(1))
    post, _ = scripted(404)
    p, _ = pusher(spool, post)

    with pytest.raises(ServerRefused, match="answered 404.*is --server right"):
        p.push_all()

    assert spool.pending() == [path]


def test_it_posts_gzip_json_with_a_bearer_token(stub_server: Callable[..., StubServer]) -> None:
    stub = stub_server((201, {"id": 1, "evaluation": "queued"}))
    body = json.dumps(doc(1)).encode()

    answer = post_snapshot(stub.url + "/api/v1/snapshots/", "s3cret-token", body)

    assert answer.status == 201
    assert json.loads(answer.body) == {"id": 1, "evaluation": "queued"}
    received = stub.received[0]
    assert received.headers["authorization"] == "Bearer s3cret-token"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["content-encoding"] == "gzip"
    assert gzip.decompress(received.body) == body


def test_it_returns_http_errors_as_answers(stub_server: Callable[..., StubServer]) -> None:
    stub = stub_server((400, {"error": "invalid", "detail": {"path": "host.machine_id", "reason": "missing"}}))

    answer = post_snapshot(stub.url + "/api/v1/snapshots/", "t", b"{}")

    assert answer.status == 400
    assert json.loads(answer.body)["detail"]["path"] == "host.machine_id"


def test_it_raises_oserror_when_nothing_listens() -> None:
    with pytest.raises(OSError):
        post_snapshot(f"http://127.0.0.1:{unused_port()}/api/v1/snapshots/", "t", b"{}", timeout=5)


def test_it_does_not_follow_a_redirect_with_the_snapshot(tmp_path: Path, stub_server: Callable[..., StubServer]) -> None:
    spool = Spool(tmp_path)
    path = spool.add(doc(1))
    stub = stub_server((301, {}))
    p = Pusher(stub.url, "t", spool, retries=0)

    with pytest.raises(ServerRefused, match="answered 301"):
        p.push_all()

    assert len(stub.received) == 1
    assert spool.pending() == [path]


@pytest.mark.parametrize(
    "answer",
    ["<html><body>Please log in to the guest Wi-Fi</body></html>", {"status": "ok"}, {"id": "7"}, {"id": True}, ""],
)
def test_it_keeps_a_snapshot_spooled_when_a_200_is_not_plimsoll_s_answer(
    tmp_path: Path, stub_server: Callable[..., StubServer], answer: dict[str, Any] | str
) -> None:
    spool = Spool(tmp_path)
    paths = [spool.add(doc(1)), spool.add(doc(2))]
    stub = stub_server((200, answer))
    p = Pusher(stub.url, "t", spool, retries=0)

    with pytest.raises(ServerRefused) as raised:
        p.push_all()

    message = str(raised.value)
    assert f"{stub.url}/api/v1/snapshots/" in message and "answered 200" in message
    assert "without the snapshot id" in message and paths[0].name in message
    if isinstance(answer, str):
        assert "text/html" in message
    assert spool.pending() == paths
    assert len(stub.received) == 1


def test_it_deletes_a_snapshot_once_the_server_answers_with_its_id(
    tmp_path: Path, stub_server: Callable[..., StubServer]
) -> None:
    spool = Spool(tmp_path)
    spool.add(doc(1))
    stub = stub_server((201, {"id": 42, "host": 1, "received_at": "now", "evaluation": "queued"}))

    result = Pusher(stub.url, "t", spool, retries=0).push_all()

    assert len(result.delivered) == 1 and spool.pending() == []
