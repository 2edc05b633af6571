"""Ingest benchmark: POST N snapshots of 200 containers each and print snapshots/s and p50/p95 latency.

By default it starts its own gunicorn (4 workers) on DATABASE_URL (PostgreSQL when set) and a fresh agent token;
pass --server URL --token T to measure a server that is already running.
    python bench/ingest.py [-n 200] [--concurrency 4] [--rate 20] [--containers 200] [--server URL --token T]
    python bench/ingest.py --in-process [-n 50] [--containers 200]

--concurrency N keeps N requests in flight (closed loop: the most the server sustains); --rate R sends R snapshots a
second whatever the answers take (open loop: the latency agents see at that load). Set DATABASE_URL and
CELERY_BROKER_URL as in production, so evaluation is queued rather than run inside the request. --analyze auto|all|off
keeps the planner's statistics as autovacuum would (default auto: see Autoanalyze).

--in-process calls inventory.services.ingest_snapshot in this process (no HTTP, no workers): N first snapshots of N
hosts (all-new content), then N hourly repeats of one host (its clock and counters changed), and prints the median and
p95 per snapshot with what store_rows (record and set rows) took of it. Use a database of its own: it is migrated here.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._snapshots import big_snapshot  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "PLIMSOLL_HTTPS": "0", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True, env=env, cwd=ROOT, capture_output=True)
    name = f"bench-{int(time.time())}"
    out = subprocess.run([*manage, "create_agent_token", name, "--fleet"], check=True, env=env, cwd=ROOT,
                         capture_output=True, text=True)
    token = out.stdout.strip().splitlines()[-1]
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "plimsoll.wsgi"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return proc, url, token


def processes() -> dict[str, tuple[str, list[str]]]:
    """pid -> (command name, the fields of /proc/<pid>/stat after the name) of every process (Linux /proc)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        found[stat.parent.name] = (text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split())
    return found


def _seconds(fields: list[str], first: int) -> float:
    """utime + stime (first=11) or cutime + cstime (first=13) of stat fields, in seconds."""
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def workers_cpu(master: int) -> float:
    """CPU seconds (user and system) the gunicorn workers of `master` have used so far."""
    return sum(_seconds(fields, 11) for _, fields in processes().values() if int(fields[1]) == master)  # ppid


def postgres_cpu() -> float | None:
    """CPU seconds the local PostgreSQL server has used so far: its live processes, and the backends that ended
    (the postmaster's reaped children); None when no PostgreSQL process is visible here."""
    stats = processes()
    total, found = 0.0, False
    for name, fields in stats.values():
        if name != "postgres":
            continue
        found = True
        total += _seconds(fields, 11)
        if stats.get(fields[1], ("",))[0] != "postgres":  # the postmaster: add its ended children
            total += _seconds(fields, 13)
    return total if found else None


class Autoanalyze(threading.Thread):
    """Keep the planner's statistics fresh while the bench runs, as autovacuum's autoanalyze does on a production
    server as its tables grow (autovacuum is off on these machines: without statistics the planner reads a table
    that grew from empty by sequential scans).

    mode "auto" checks every 2 s and ANALYZEs each table whose rows changed since its last analysis pass
    autovacuum's default threshold (autovacuum_analyze_threshold 50 plus autovacuum_analyze_scale_factor 0.1 of its
    rows), as the autovacuum launcher would, only more often (it visits a database once a minute). Mode "all"
    ANALYZEs the whole database every 2 s: every table, changed or not, far more than autovacuum ever does."""

    def __init__(self, url: str, mode: str = "auto", every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.url, self.mode, self.every, self.done = url, mode, every, threading.Event()
        self.analyzed = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.wait(self.every):
                if self.mode == "all":
                    conn.execute("ANALYZE")
                    continue
                due = conn.execute("""
                    SELECT s.relid::regclass::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                    WHERE s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)""").fetchall()
                for (table,) in due:
                    conn.execute(f"ANALYZE {table}")  # a name from the catalog (regclass::text quotes it)
                    self.analyzed += 1


def post(url: str, token: str, body: bytes) -> tuple[float, int]:
    request = urllib.request.Request(
        f"{url}/api/v1/snapshots/", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return time.perf_counter() - start, status


def in_process(n: int, containers: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from inventory import services

    call_command("migrate", verbosity=0)
    took: dict[str, list[float]] = {"store_rows": []}

    def timed(name: str) -> None:
        inner = getattr(services, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                took[name].append(time.perf_counter() - start)

        setattr(services, name, wrapper)

    for name in took:
        timed(name)
    run_id = int(time.time()) % 100000 * 1000
    firsts = [big_snapshot(containers, run_id + i) for i in range(n + 3)]
    repeats = []
    for hour in range(1, n + 1):
        doc = copy.deepcopy(firsts[-1])
        doc["agent"]["collected_at"] = f"2026-12-{1 + hour // 24 % 28:02d}T{hour % 24:02d}:00:00Z"
        info = doc["docker"]["info"]
        info["SystemTime"] = doc["agent"]["collected_at"]
        info["NGoroutines"] = info.get("NGoroutines", 0) + hour
        repeats.append(doc)

    def measure(title: str, docs: list[dict[str, object]]) -> None:
        for values in took.values():
            values.clear()
        totals = []
        for doc in docs:
            start = time.perf_counter()
            services.ingest_snapshot(doc, None)
            totals.append(time.perf_counter() - start)
        parts = ", ".join(f"{name} {statistics.median(values) * 1000:.1f}" for name, values in took.items())
        print(f"  {title:34s} median {statistics.median(totals) * 1000:6.1f} ms, "
              f"p95 {sorted(totals)[int(len(totals) * 0.95) - 1] * 1000:6.1f} ms (medians: {parts})")

    for doc in firsts[:3]:  # warm-up: imports, connection, caches
        services.ingest_snapshot(doc, None)
    print(f"ingest in process: {n} snapshots x {containers} containers each way, "
          f"database {os.environ.get('DATABASE_URL', 'sqlite (embedded)').split('@')[-1]}")
    measure("first snapshot of a host (all new)", firsts[3:])
    measure("hourly repeat (clock, counters)", repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="snapshots to post")
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, help="open loop: snapshots per second (default: closed loop)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers when the bench starts the server")
    parser.add_argument("--server")
    parser.add_argument("--token")
    parser.add_argument("--in-process", action="store_true", help="call ingest_snapshot here, no HTTP (see above)")
    parser.add_argument("--analyze", choices=["auto", "all", "off"], default="auto",
                        help="statistics while posting to PostgreSQL: 'auto' ANALYZEs the tables past autovacuum's "
                        "threshold every 2 s (default), 'all' the whole database every 2 s, 'off' never")
    args = parser.parse_args()
    if args.in_process:
        in_process(args.n, args.containers)
        return

    proc = analyze = None
    if args.server:
        url, token = args.server.rstrip("/"), args.token
    else:
        proc, url, token = start_server(args.workers)
    run_id = int(time.time()) % 100000 * 1000
    warm = 2 * args.workers
    bodies = [gzip.compress(json.dumps(big_snapshot(args.containers, run_id + i)).encode(), 1) for i in range(args.n + warm)]
    raw_size = len(json.dumps(big_snapshot(args.containers, 0)).encode())
    try:
        # Warm-up: every worker's first request pays for imports and its database connection.
        with ThreadPoolExecutor(warm) as pool:
            list(pool.map(lambda b: post(url, token, b), bodies[:warm]))
        bodies = bodies[warm - 1 :]
        database = os.environ.get("DATABASE_URL", "")
        analyze = Autoanalyze(database, args.analyze) if database.startswith("postgres") and args.analyze != "off" else None
        if analyze is not None:
            analyze.start()
        cpu = workers_cpu(proc.pid) if proc is not None else 0.0
        db_cpu = postgres_cpu()
        start = time.perf_counter()
        if args.rate:
            def paced(item: tuple[int, bytes]) -> tuple[float, int]:
                delay = start + item[0] / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                return post(url, token, item[1])

            with ThreadPoolExecutor(32) as pool:
                outcomes = list(pool.map(paced, enumerate(bodies[1:])))
        else:
            with ThreadPoolExecutor(args.concurrency) as pool:
                outcomes = list(pool.map(lambda b: post(url, token, b), bodies[1:]))
        elapsed = time.perf_counter() - start
        cpu = workers_cpu(proc.pid) - cpu if proc is not None else 0.0
        db_cpu = None if db_cpu is None or (after := postgres_cpu()) is None else after - db_cpu
    finally:
        if analyze is not None:
            analyze.done.set()
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    latencies = sorted(t for t, _ in outcomes)
    statuses = {s: sum(1 for _, x in outcomes if x == s) for s in {x for _, x in outcomes}}
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    db = os.environ.get("DATABASE_URL", "sqlite (embedded)").split("@")[-1]
    if not os.environ.get("CELERY_BROKER_URL"):
        print("note: CELERY_BROKER_URL is unset, so each request also evaluates its snapshot in-process")
    print(f"ingest: {len(outcomes)} snapshots x {args.containers} containers ({raw_size / 1e6:.2f} MB JSON each, gzip), "
          f"{f'rate {args.rate:g}/s' if args.rate else f'concurrency {args.concurrency}'}, database {db}")
    if analyze is not None and args.analyze == "all":
        print("  analyze        the whole database every 2 s")
    elif analyze is not None:
        print(f"  analyze        {analyze.analyzed} tables past autovacuum's threshold (checked every 2 s)")
    print(f"  statuses       {statuses}")
    print(f"  throughput     {len(outcomes) / elapsed:.1f} snapshots/s")
    print(f"  latency p50    {statistics.median(latencies) * 1000:.1f} ms")
    print(f"  latency p95    {p95 * 1000:.1f} ms")
    print(f"  latency max    {latencies[-1] * 1000:.1f} ms")
    if proc is not None:
        # Unlike latency, this does not grow with what else the machine runs (the database's share is not in it).
        print(f"  server CPU     {cpu / len(outcomes) * 1000:.1f} ms per snapshot (gunicorn workers)")
    if db_cpu is not None and database.startswith("postgres"):
        # All of the local server's work while the bench ran: this database's statements, the ANALYZE every 2 s, and
        # whatever else the machine asked of PostgreSQL meanwhile.
        print(f"  database CPU   {db_cpu / len(outcomes) * 1000:.1f} ms per snapshot (local PostgreSQL, all processes)")


if __name__ == "__main__":
    main()
