"""Time GET /metrics over a seeded estate (not a test: run by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_metrics_bench python bench/posture.py --hosts 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_metrics_bench python tests/metrics/bench_metrics.py

Prints the time of a scrape with the posture cache warm (nothing changed since the last scrape) and cold (a new
evaluation, decision or upload since), the size of the answer, its series and its queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
os.environ.setdefault("PLIMSOLL_HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("PLIMSOLL_METRICS_TOKEN", "bench-metrics-token")

import django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from compliance.models import Result
    from inventory.models import Host

    call_command("migrate", verbosity=0)
    client = Client()
    header = {"HTTP_AUTHORIZATION": f"Bearer {settings.PLIMSOLL_METRICS_TOKEN}"}

    def scrape() -> tuple[float, int, bytes]:
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/metrics", **header)
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.content[:300]
        return elapsed, len(ctx.captured_queries), response.content

    cold, warm = [], []
    for _ in range(args.runs):
        cache.clear()
        cold.append(scrape())
        warm.append(scrape())
    body = warm[-1][2]
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    print(f"/metrics over {Host.objects.count()} hosts, {Result.objects.count()} results, "
          f"database {connection.vendor}: {len(body)} bytes, {series} series")
    for name, runs in (("warm", warm), ("cold", cold)):
        times = [t for t, _, _ in runs]
        print(f"  {name}: median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms, "
              f"{runs[-1][1]} queries")


if __name__ == "__main__":
    main()
