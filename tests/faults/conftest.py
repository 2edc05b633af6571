"""The production path, with faults: this module's own Redis (so a test can stop it), a real Celery worker and beat,
and gunicorn serving the ingest API, all on the test's PostgreSQL database. The shared Redis and PostgreSQL
servers are never stopped; only the processes started here are."""

from __future__ import annotations

import copy
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The sweeper's thresholds and beat interval for the processes started here (production: 60 s, 300 s, every
# minute): short, so that recovery takes seconds and the whole folder stays well under a minute and a half.
SWEEP_ENV = {
    "PLIMSOLL_SWEEP_QUEUED_SECONDS": "3",
    "PLIMSOLL_SWEEP_RUNNING_SECONDS": "8",
    "PLIMSOLL_SWEEP_EVERY_SECONDS": "1",
}


def prerequisites_missing() -> str:
    """Why the fault tests cannot run here, or ''. They need what the production path needs: PostgreSQL, a Redis
    server binary to start, and the celery and gunicorn commands."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL is not PostgreSQL"
    if not settings.PLIMSOLL_BROKER_CONFIGURED:
        return "CELERY_BROKER_URL is not set (tasks run in-process)"
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    for command in ("celery", "gunicorn"):
        if not (BIN / command).exists():
            return f"{command} is not installed in {BIN}"
    return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@dataclass
class Process:
    """One subprocess with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n==== start {time.strftime('%H:%M:%S')} {' '.join(self.argv)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.log.parent, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def send(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop this process (and, if it does not go, its process group): only processes this module started."""
        if self.proc is None:
            return
        self.send(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        for pid in children(self.proc.pid):  # a prefork child orphaned by a killed parent
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None


@dataclass
class Stack:
    """Redis (restartable), a Celery worker and beat, and gunicorn, on the test database."""

    tmp: Path
    database: dict[str, Any]
    redis_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    worker_count: int = 0
    redis: Process | None = None
    worker: Process | None = None
    beat: Process | None = None
    web: Process | None = None

    # -- configuration shared by every process

    def database_url(self, application: str) -> str:
        db = self.database
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        return (f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
                f"?application_name={application}")

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self, application: str, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_ALLOW"))}
        env.update(
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE") or "plimsoll.settings",
            DATABASE_URL=self.database_url(application),
            CELERY_BROKER_URL=self.broker_url,
            PLIMSOLL_VAR_DIR=str(self.tmp / "var"),
            PLIMSOLL_HTTPS="0",
            DEBUG="0",
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            SECRET_KEY="faults-" + "x" * 50,
            **SWEEP_ENV,
        )
        env.update(extra)
        return env

    # -- Redis

    def start_redis(self) -> None:
        self.redis = Process("redis", [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
                                       "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             dict(os.environ), self.tmp / "redis.log")
        self.redis.start()
        wait_for(self.redis_answers, 10, "redis to answer PING")

    def redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_command(self, *words: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as sock:
            sock.sendall(f"*{len(words)}\r\n".encode() + b"".join(
                f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words))
            return sock.recv(4096)

    def queued_messages(self) -> int:
        return int(self.redis_command("LLEN", "celery").strip().lstrip(b":"))

    def stop_redis(self) -> None:
        """The broker dies (SIGKILL) and, with no persistence, forgets every queued task."""
        assert self.redis is not None
        self.redis.stop(signal.SIGKILL)

    # -- Celery worker and beat, gunicorn

    def start_worker(self, wait: bool = True) -> Process:
        """A worker as production runs it (prefork, acks late), one child so that a test knows which to kill."""
        self.worker_count += 1
        name = f"faults{self.worker_count}"
        self.worker = Process(name, [str(BIN / "celery"), "-A", "plimsoll", "worker", "--pool=prefork",
                                     "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                                     "--without-heartbeat", "-n", f"{name}@%h"],
                              self.env("plimsoll-worker"), self.tmp / f"worker{self.worker_count}.log")
        self.worker.start()
        if wait:
            self.wait_worker()
        return self.worker

    def wait_worker(self) -> None:
        assert self.worker is not None
        wait_for(lambda: " ready." in self.worker.text() or not self.worker.running, 60, "the worker to be ready",
                 interval=0.1)
        assert self.worker.running, self.worker.text()[-3000:]

    def worker_pids(self) -> list[int]:
        assert self.worker is not None and self.worker.proc is not None
        return [self.worker.proc.pid, *children(self.worker.proc.pid)]

    def start_beat(self) -> None:
        self.beat = Process("beat", [str(BIN / "celery"), "-A", "plimsoll", "beat", "--loglevel=INFO",
                                     "--schedule", str(self.tmp / "beat-schedule")],
                            self.env("plimsoll-beat"), self.tmp / "beat.log")
        self.beat.start()

    def start_web(self) -> None:
        """gunicorn with the app loaded before it listens (--preload), one sync worker holding its connection."""
        self.web = Process("web", [str(BIN / "gunicorn"), "plimsoll.wsgi:application", "--preload", "--bind",
                                   f"127.0.0.1:{self.web_port}", "--workers", "1", "--timeout", "120",
                                   "--access-logfile", "-"],
                           self.env("plimsoll-web"), self.tmp / "web.log")
        self.web.start()

    def wait_web(self) -> None:
        assert self.web is not None
        wait_for(lambda: self.web_answers() or not self.web.running, 60, "gunicorn to answer", interval=0.1)
        assert self.web.running, self.web.text()[-3000:]

    def web_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.web_port), timeout=0.5):
                return True
        except OSError:
            return False

    def request(self, method: str, path: str, token: str, body: Any = None,
                scheme: str = "Bearer") -> tuple[int, Any, float]:
        """One HTTP request to gunicorn: (status, parsed JSON body or text, seconds it took)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", data=data, method=method,
                                         headers={"Authorization": f"{scheme} {token}",
                                                  "Content-Type": "application/json", "Accept": "application/json"})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        elapsed = time.perf_counter() - start
        try:
            return status, json.loads(raw), elapsed
        except ValueError:
            return status, raw.decode(errors="replace"), elapsed

    # -- the database, seen from outside Django's connection

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url("plimsoll-faults-test"), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def backends(self, application: str) -> list[int]:
        return [pid for (pid,) in self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            application)]

    def start(self) -> None:
        """Redis first; then gunicorn, the worker and beat, side by side (each loads Django for seconds)."""
        self.start_redis()
        self.start_web()
        self.start_worker(wait=False)
        self.start_beat()
        self.wait_web()
        self.wait_worker()

    def stop(self) -> None:
        processes = [p for p in (self.web, self.beat, self.worker, self.redis) if p is not None]
        for process in processes:
            process.send(signal.SIGQUIT if process is self.worker else signal.SIGTERM)
        for process in processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"---- {p.name} ({p.log})\n{p.text()[-4000:]}"
                         for p in (self.redis, self.worker, self.beat, self.web) if p is not None)


def warm_up(stack: Stack) -> None:
    """One snapshot through the healthy stack, so that no test measures a first request or a first task."""
    from inventory.choices import EvaluationStatus
    from inventory.models import AgentToken, Snapshot

    token = AgentToken.issue("faults-warm-up", fleet=True)[1]
    status, body, _ = stack.request("POST", "/api/v1/snapshots/", token, sample_document("warm-up"))
    assert status == 201, (status, body, stack.logs())
    wait_for(lambda: Snapshot.objects.filter(pk=body["id"], evaluation_status=EvaluationStatus.DONE).exists(), 60,
             "the warm-up snapshot to be judged", interval=0.1)


def sample_document(tag: str, index: int = 0, containers: int = 0) -> dict[str, Any]:
    """A real sample snapshot (tests/samples/) as a distinct host and moment; with `containers`, that many distinct
    containers (the sample's, repeated with their own ids and names)."""
    from tests.conftest import sample_snapshots

    doc = json.loads(sample_snapshots()[index % len(sample_snapshots())].read_text())
    doc["host"]["machine_id"] = f"faults-{tag}"
    doc["host"]["hostname"] = f"faults-{tag}.example.internal"
    doc["agent"]["collected_at"] = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
    if containers:
        originals = doc["docker"]["containers"]
        doc["docker"]["containers"] = []
        for i in range(containers):
            item = copy.deepcopy(originals[i % len(originals)])
            item["inspect"]["Id"] = f"{i:08x}" + item["inspect"]["Id"][8:]
            item["inspect"]["Name"] = f"{item['inspect']['Name']}-{i:04d}"
            doc["docker"]["containers"].append(item)
    return doc


@pytest.fixture(scope="module")
def stack(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if reason := prerequisites_missing():
        if os.environ.get("PLIMSOLL_REQUIRE_BROKER"):
            pytest.fail(f"PLIMSOLL_REQUIRE_BROKER is set but {reason}")
        pytest.skip(reason)
    from django.db import connection

    stack = Stack(tmp=tmp_path_factory.mktemp("faults"), database=dict(connection.settings_dict))
    try:
        stack.start()
        with django_db_blocker.unblock():
            warm_up(stack)
        yield stack
    finally:
        stack.stop()
