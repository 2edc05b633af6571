"""Under several gunicorn workers the ingest counts are the totals over every worker, whichever worker answers the
scrape (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR), and the database gauges agree."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import load_sample
from tests.metrics.conftest import TOKEN, Scrape

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two processes share the test database: PostgreSQL"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def server(tmp_path: Path) -> Any:
    port = _free_port()
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "tests.metrics.gunicorn_settings",
        "DATABASE_URL": _database_url(),
        "PLIMSOLL_VAR_DIR": str(tmp_path / "var"),
        "PLIMSOLL_METRICS_TOKEN": TOKEN,
        "PLIMSOLL_HTTPS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "SECRET_KEY": "gunicorn-test-secret-key-" + "x" * 40,
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "plimsoll.wsgi:application", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield base, multiproc
    process.terminate()
    process.wait(timeout=30)


def test_two_workers_report_the_totals_of_both(server, agent_token):
    from inventory.models import Snapshot

    base, multiproc = server
    agent = {"Authorization": f"Bearer {agent_token[1]}", "Content-Type": "application/json"}
    documents = []
    for i in range(8):
        doc = load_sample("snapshot_web01.json")
        doc["host"]["machine_id"] = f"gunicorn-{i}"
        documents.append(json.dumps(doc).encode())
    pushes = [(doc, agent) for doc in documents]  # 8 new: 201
    pushes += [(documents[0], agent), (documents[1], agent)]  # the same again: 200
    pushes += [(b"{", agent), (b"[]", agent), (b'{"schema": "nope"}', agent)]  # malformed: 400
    pushes += [(documents[2], {"Content-Type": "application/json"})] * 2  # no token: 401
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda p: _request(f"{base}/api/v1/snapshots/", *p)[0], pushes))
    # The duplicates may race their originals: each document is stored once, answered 201 once.
    assert sorted(codes) == sorted([201] * 8 + [200] * 2 + [400] * 3 + [401] * 2), codes
    workers = {f.name.rsplit("_", 1)[-1] for f in multiproc.glob("counter_*.db")}
    assert len(workers) == 2, f"both workers should have answered pushes: {workers}"

    expected = {"201": 8, "200": 2, "400": 3, "401": 2}
    snapshots = Snapshot.objects.count()
    assert snapshots == 8
    for _ in range(6):  # several scrapes, answered by either worker: the same totals every time
        status, body = _request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        scrape = Scrape(body.decode())
        assert {s["code"]: int(scrape.value("plimsoll_ingest_responses_total", **s))
                for s in scrape.series("plimsoll_ingest_responses_total")} == expected
        # Without a broker each push was judged in the worker that took it, before it answered.
        assert scrape.value("plimsoll_evaluations_total", status="done") == snapshots
        assert scrape.value("plimsoll_evaluation_snapshots", status="queued") == 0
