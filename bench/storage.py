"""Storage benchmark: what a snapshot costs in PostgreSQL, first and repeated (issue 13, docs/storage.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_bench_storage python bench/storage.py [--hosts 20]
        [--repeats 48] [--containers 30] [--change 0.02]

Use a database of its own (its hosts are created here; a previous run's rows are left and measured around).
Each host pushes one first snapshot and --repeats hourly repeats through POST /api/v1/snapshots/ (the agent's API),
each judged by the real evaluation task (in-process, as the embedded mode runs it: leave CELERY_BROKER_URL unset).
A repeat changes what changes every hour (collection time, the daemon's clock and counters, container start times
of running containers stay); in each repeat a share --change of the fleet's containers is redeployed (new id,
creation time and environment), and stays so. Sizes are pg_total_relation_size (heap, TOAST and indexes) summed over
every table of the inventory and compliance apps, after a VACUUM (as autovacuum would run), before and after each phase.
Prints bytes added per first and per repeat snapshot, per table, the projection for 10,000 hosts pushing hourly for a
year, the push time (ingest and judging) and the time of the posture API over the hosts.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
os.environ.setdefault("PLIMSOLL_HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

from bench._snapshots import big_snapshot  # noqa: E402

PREFIX = "bench-storage-"
FLEET_HOSTS, HOURS_A_YEAR = 10_000, 24 * 365
GOAL_GB = 200


def relation_sizes() -> dict[str, int]:
    """Bytes of every relation of the two apps apart: each table's heap, its TOAST (with its index) and each index."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.relkind, pg_relation_size(c.oid),
                   COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')
              AND (c.relname LIKE 'inventory\\_%%' OR c.relname LIKE 'compliance\\_%%')""")
        sizes: dict[str, int] = {}
        for name, kind, size, toast in cursor.fetchall():
            sizes[name if kind == "i" else f"{name} (heap)"] = size
            if toast:
                sizes[f"{name} (toast)"] = toast
        return sizes


def table_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm', 'p')
              AND (c.relname LIKE 'inventory\\_%%' OR c.relname LIKE 'compliance\\_%%')""")
        return dict(cursor.fetchall())


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in table_sizes():
            cursor.execute(f'VACUUM "{table}"')


def autovacuum() -> None:
    """VACUUM the tables whose dead rows, or whose TOAST table's dead rows, pass autovacuum's default threshold
    (autovacuum_vacuum_threshold 50 plus autovacuum_vacuum_scale_factor 0.2 of the rows), as the autovacuum launcher
    would: it visits a TOAST table on its own counts (a whole document stored at ingest and replaced by its skeleton
    when judged leaves dead TOAST chunks in a TOAST table that holds almost nothing live)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT DISTINCT c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
            JOIN pg_stat_all_tables s ON s.relid IN (c.oid, c.reltoastrelid)
            JOIN pg_class r ON r.oid = s.relid
            WHERE c.relkind = 'r' AND (c.relname LIKE 'inventory\\_%%' OR c.relname LIKE 'compliance\\_%%')
              AND s.n_dead_tup > 50 + 0.2 * GREATEST(r.reltuples, 0)""")
        for (table,) in cursor.fetchall():
            cursor.execute(f'VACUUM "{table}"')


def redeploy(item: dict[str, Any], serial: int) -> None:
    """A container replaced by a new one of the same name: new id, creation time and one more environment value."""
    inspect = item["inspect"]
    inspect["Id"] = hashlib.sha256(f"redeploy-{serial}".encode()).hexdigest()
    stamp = f"2026-12-{1 + serial % 28:02d}T{serial % 24:02d}:{serial % 60:02d}:00.000000000Z"
    inspect["Created"] = stamp
    inspect.setdefault("State", {})["StartedAt"] = stamp
    config = inspect.setdefault("Config", {})
    config["Env"] = [*(config.get("Env") or []), f"RELEASE={serial}"]


def tick(doc: dict[str, Any], hour: int) -> None:
    """What changes in every collection: the time, the daemon's clock and counters."""
    when = f"2026-12-{1 + hour // 24 % 28:02d}T{hour % 24:02d}:00:00Z"
    doc["agent"]["collected_at"] = when
    info = doc["docker"].get("info") or {}
    info["SystemTime"] = when
    for counter in ("NGoroutines", "NFd"):
        if isinstance(info.get(counter), int):
            info[counter] += hour % 7


def show(title: str, added: dict[str, int], per: int) -> int:
    total = sum(added.values())
    print(f"{title}: {total / per:,.0f} bytes per snapshot ({per} snapshots)")
    for name, size in sorted(added.items(), key=lambda kv: -abs(kv[1])):
        if size:
            print(f"    {name:42s} {size / per:>12,.0f}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=48)
    parser.add_argument("--containers", type=int, default=30)
    parser.add_argument("--change", type=float, default=0.02, help="share of containers redeployed per repeat")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--relations", action="store_true", help="also print each heap, TOAST and index apart")
    parser.add_argument("--vacuum", choices=["auto", "hourly", "off"], default="auto",
                        help="during the repeats: 'auto' vacuums a table once its dead rows pass PostgreSQL's "
                        "default autovacuum threshold (50 + 20%% of its rows), checked after each hour's pushes, as "
                        "autovacuum does in production (it is off on this machine); 'hourly' vacuums every table "
                        "after each hour; 'off' only between phases")
    args = parser.parse_args()

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from inventory.models import AgentToken, Snapshot

    if connection.vendor != "postgresql":
        sys.exit("bench/storage.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("leave CELERY_BROKER_URL unset: the evaluation task runs in-process here")
    call_command("migrate", verbosity=0)
    call_command("load_frameworks", stdout=io.StringIO())
    run = int(time.time())
    token = AgentToken.issue(f"bench-storage-{run}", fleet=True)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    rng = random.Random(args.seed)

    def push(doc: dict[str, Any]) -> float:
        body = gzip.compress(json.dumps(doc).encode())
        start = time.perf_counter()
        response = client.generic("POST", "/api/v1/snapshots/", body, content_type="application/json",
                                  HTTP_CONTENT_ENCODING="gzip")
        took = time.perf_counter() - start
        assert response.status_code in (200, 201), response.content[:500]
        snapshot = Snapshot.objects.get(pk=response.json()["id"])
        assert snapshot.evaluation_status == "done", (snapshot.pk, snapshot.evaluation_status, snapshot.evaluation_error)
        return took

    docs = [big_snapshot(args.containers, 700_000 + run % 100_000 * 100 + i,
                         machine_id=f"{PREFIX}{run}-{i:03d}") for i in range(args.hosts)]
    for doc in docs:
        # Each daemon names itself: docker info is not shared between hosts, as it is not in a real fleet.
        info = doc["docker"].get("info") or {}
        for key in ("Name", "ID"):
            if key in info:
                info[key] = f"{doc['host']['machine_id']}-{key.lower()}"
    vacuum()
    sizes0, relations0 = table_sizes(), relation_sizes()
    first_times = []
    for doc in docs:
        tick(doc, 0)
        first_times.append(push(doc))
    vacuum()
    sizes1, relations1 = table_sizes(), relation_sizes()
    repeat_times = []
    serial = 0
    slots = [(h, c) for h in range(args.hosts) for c in range(args.containers)]
    per_repeat = args.change * len(slots)
    for hour in range(1, args.repeats + 1):
        # On average `change` of the fleet's containers per repeat (12 of 600 by default).
        n = int(per_repeat) + (1 if rng.random() < per_repeat - int(per_repeat) else 0)
        for h, c in rng.sample(slots, n):
            serial += 1
            redeploy(docs[h]["docker"]["containers"][c], serial)
        for doc in docs:
            tick(doc, hour)
            repeat_times.append(push(doc))
        if args.vacuum == "hourly":
            vacuum()
        elif args.vacuum == "auto":
            autovacuum()
    vacuum()
    sizes2, relations2 = table_sizes(), relation_sizes()

    names = sorted(set(sizes0) | set(sizes1) | set(sizes2))
    first = {n: sizes1.get(n, 0) - sizes0.get(n, 0) for n in names}
    repeat = {n: sizes2.get(n, 0) - sizes1.get(n, 0) for n in names}
    print(f"{args.hosts} hosts x {args.containers} containers, 1 first + {args.repeats} repeats each, "
          f"{args.change:.0%} of containers redeployed per repeat ({serial} in all); vacuum during repeats: {args.vacuum}")
    first_total = show("first snapshot", first, args.hosts)
    repeat_total = show("repeat snapshot", repeat, args.hosts * args.repeats)
    per_first, per_repeat_bytes = first_total / args.hosts, repeat_total / (args.hosts * args.repeats)
    if args.relations:
        names = sorted(set(relations0) | set(relations1) | set(relations2))
        show("first snapshot, by relation", {n: relations1.get(n, 0) - relations0.get(n, 0) for n in names},
             args.hosts)
        show("repeat snapshot, by relation", {n: relations2.get(n, 0) - relations1.get(n, 0) for n in names},
             args.hosts * args.repeats)
    print(f"repeat / first: {per_repeat_bytes / per_first:.1%}")
    year = FLEET_HOSTS * (per_first + (HOURS_A_YEAR - 1) * per_repeat_bytes)
    print(f"projection: {FLEET_HOSTS:,} hosts pushing hourly for a year: {year / 1e9:,.1f} GB "
          f"(goal under {GOAL_GB} GB: {'met' if year / 1e9 < GOAL_GB else 'NOT met'})")
    print(f"push (ingest + judging, through the API): first median {statistics.median(first_times) * 1000:.0f} ms, "
          f"repeat median {statistics.median(repeat_times) * 1000:.0f} ms, "
          f"p95 {sorted(repeat_times)[int(len(repeat_times) * 0.95)] * 1000:.0f} ms")

    from django.contrib.auth.models import Group, User

    user = User.objects.filter(username="bench-auditor").first() or User.objects.create_user("bench-auditor")
    user.groups.add(Group.objects.get(name="auditor"))
    reader = APIClient()
    reader.force_authenticate(user)
    reader.get("/api/v1/posture/pci-dss-4.0/")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        response = reader.get("/api/v1/posture/pci-dss-4.0/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    print(f"posture API over {response.json()['summary']['hosts']} hosts: median {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
