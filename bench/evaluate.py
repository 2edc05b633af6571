"""Benchmark: judging a 200-container snapshot against the time `json.loads` takes on the same bytes.

    .venv/bin/python bench/evaluate.py [--containers 200] [--rounds 15]

Builds the snapshot by replicating the real Podman sample containers (tests/samples/snapshot_web01.json) with
distinct ids and names, then prints the best-of-N time of json.loads, of evaluate() alone, and their ratio
(the target is at most 3x). Judging only: no database, no serialisation of the results.
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


if __name__ == "__main__":
    main()
