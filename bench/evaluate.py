"""Benchmark: judging a 200-container snapshot against the time `json.loads` takes on the same bytes.

    .venv/bin/python bench/evaluate.py [--containers 200] [--rounds 15]

Builds the snapshot by replicating the real Podman sample containers (tests/samples/snapshot_web01.json) with
distinct ids and names, then prints the best-of-N time of json.loads, of evaluate() alone, and their ratio
(the target is at most 3x). Then, unless --no-db, the whole evaluation of the stored snapshot as the Celery task
runs it: decompress the evidence document, judge, store results and tallies in one transaction (target under 1 s
with PostgreSQL: set DATABASE_URL).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compliance.engine import evaluate  # noqa: E402
from tests.engine.conftest import make_docker_host  # noqa: E402

SAMPLE = REPO / "tests" / "samples" / "snapshot_web01.json"


def build(count: int) -> dict[str, Any]:
    snapshot = make_docker_host(json.loads(SAMPLE.read_text()))
    originals = snapshot["docker"]["containers"]
    containers = []
    for i in range(count):
        item = copy.deepcopy(originals[i % len(originals)])
        inspect = item["inspect"]
        inspect["Id"] = f"{i:08x}" + inspect["Id"][8:]
        inspect["Name"] = f"{inspect['Name']}-{i:03d}"
        containers.append(item)
    snapshot["docker"]["containers"] = containers
    return snapshot


def best(func: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-db", action="store_true", help="judging alone, without the stored evaluation")
    args = parser.parse_args()

    raw = json.dumps(build(args.containers)).encode()
    parsed = json.loads(raw)
    results = evaluate(parsed)
    loads = best(lambda: json.loads(raw), args.rounds)
    judge = best(lambda: evaluate(parsed), args.rounds)

    print(f"snapshot: {args.containers} containers, {len(raw) / 1e6:.2f} MB, {len(results)} results")
    print(f"json.loads: {loads * 1e3:8.2f} ms (best of {args.rounds})")
    print(f"evaluate:   {judge * 1e3:8.2f} ms (best of {args.rounds})")
    print(f"ratio:      {judge / loads:8.2f}x (target <= 3x)")
    if not args.no_db:
        with_database(parsed, args.rounds)


def with_database(snapshot: dict[str, Any], rounds: int) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from compliance.models import Result
    from compliance.services import evaluate_snapshot
    from inventory.models import AgentToken, Snapshot
    from inventory.services import ingest_snapshot

    call_command("migrate", verbosity=0)
    snapshot["host"]["machine_id"] = "bench-evaluate"
    snapshot["host"]["hostname"] = "bench-evaluate"
    agent = AgentToken.objects.filter(name="bench-evaluate").first() or AgentToken.issue("bench-evaluate", fleet=True)[0]
    stored = ingest_snapshot(snapshot, agent).snapshot
    timings = []
    for _ in range(max(3, rounds // 3)):
        start = time.perf_counter()
        evaluate_snapshot(stored.pk, force=True)
        timings.append(time.perf_counter() - start)
    count = Result.objects.filter(snapshot_id=stored.pk, is_current=True).count()
    engine = connection.settings_dict["ENGINE"].rsplit(".", 1)[-1]
    print(f"evaluate_snapshot with results stored ({count} rows, {engine}): best {min(timings) * 1e3:.0f} ms, "
          f"worst {max(timings) * 1e3:.0f} ms (target < 1000 ms)")
    assert Snapshot.objects.filter(pk=stored.pk).exists()


if __name__ == "__main__":
    main()
