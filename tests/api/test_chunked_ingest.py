"""Ingest with `Transfer-Encoding: chunked`: read whole where the WSGI server de-chunks the body (gunicorn sets
`wsgi.input_terminated`), refused with 411 and a JSON error where it does not (runserver's server); never read as an
empty body. Both paths go through a real server."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection

from inventory.models import Snapshot

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "samples" / "snapshot_web01.json"


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _post_chunked(host: str, port: int, token: str, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "POST", "/api/v1/snapshots/", body=_chunks(body), encode_chunked=True,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Transfer-Encoding": "chunked"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """gunicorn serving the site on the test database (committed rows only: the test is transactional)."""
    settings = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        "PLIMSOLL_HTTPS": "0",
        "DJANGO_SETTINGS_MODULE": "plimsoll.settings",
    }
    env.pop("CELERY_BROKER_URL", None)  # evaluation runs in-process, in the test database
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "plimsoll.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {(tmp_path / 'gunicorn.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn shares the test database only on PostgreSQL")
def test_it_reads_a_chunked_snapshot_under_gunicorn(gunicorn, agent_token):
    body = SAMPLE.read_bytes()
    status, answer, _ = _post_chunked(*gunicorn, agent_token[1], body)
    assert status == 201, answer
    snapshot = Snapshot.objects.get(pk=answer["id"])
    assert snapshot.size_bytes > 0 and snapshot.host.hostname == json.loads(body)["host"]["hostname"]


def test_it_refuses_a_chunked_snapshot_with_411_under_runserver(live_server, agent_token):
    address = urlsplit(live_server.url)
    status, answer, _ = _post_chunked(address.hostname, address.port, agent_token[1], SAMPLE.read_bytes())
    assert status == 411
    assert answer["error"] == "length_required" and answer["detail"]["path"] == "Content-Length"
    assert not Snapshot.objects.exists()


def test_it_reads_the_terminated_input_of_a_chunked_request(agent_client, snapshot_doc):
    # What gunicorn hands Django: no CONTENT_LENGTH, a de-chunked wsgi.input and wsgi.input_terminated.
    body = json.dumps(snapshot_doc()).encode()
    response = agent_client.generic(
        "POST", "/api/v1/snapshots/", body, content_type="application/json", HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="", **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.content[:300]
    assert Snapshot.objects.filter(pk=response.json()["id"]).exists()


def test_it_refuses_a_chunked_request_the_server_did_not_terminate(agent_client, snapshot_doc):
    body = json.dumps(snapshot_doc()).encode()
    response = agent_client.generic(
        "POST", "/api/v1/snapshots/", body, content_type="application/json", HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert response.json()["error"] == "length_required"
    assert not Snapshot.objects.exists()


def test_it_still_bounds_a_chunked_body(agent_client, settings):
    settings.PLIMSOLL_MAX_SNAPSHOT_BYTES = 1000
    body = b"{" + b" " * 5000 + b"}"
    response = agent_client.generic(
        "POST", "/api/v1/snapshots/", body, content_type="application/json", HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="", **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
