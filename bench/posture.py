"""Posture benchmark: the PCI DSS posture over N hosts of 30 containers each (seeded from the real samples).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_bench_posture python bench/posture.py [--hosts 2000] [--runs 5]

Use a database of its own: every host in it counts toward "all hosts".

Seeding ingests and evaluates each host once (about 0.1 s a host, in two processes); later runs reuse the hosts.
Prints the time of GET /api/v1/posture/pci-dss-4.0/ (median and worst of --runs) and its query count.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
os.environ.setdefault("PLIMSOLL_HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

PREFIX = "bench-posture-"


def seed(indexes: list[int]) -> int:
    django.setup()
    from django.db import connection

    from bench._snapshots import big_snapshot
    from compliance.services import evaluate_snapshot
    from inventory.models import AgentToken
    from inventory.services import ingest_snapshot

    connection.close()
    agent = AgentToken.objects.get(name="bench-posture")
    for i in indexes:
        doc = big_snapshot(30, 500000 + i, machine_id=f"{PREFIX}{i:05d}")
        doc["agent"]["labels"] = {"pci": "cde"} if i % 2 == 0 else {"env": "office"}
        snapshot = ingest_snapshot(doc, agent).snapshot
        evaluate_snapshot(snapshot.pk)
    return len(indexes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--framework", default="pci-dss-4.0")
    parser.add_argument("--scope", default="")
    args = parser.parse_args()

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from compliance.models import Result
    from inventory.models import Host

    call_command("migrate", verbosity=0)
    call_command("load_frameworks", stdout=io.StringIO())
    have = set(Host.objects.filter(machine_id__startswith=PREFIX).values_list("machine_id", flat=True))
    missing = [i for i in range(args.hosts) if f"{PREFIX}{i:05d}" not in have]
    if missing:
        from inventory.models import AgentToken

        AgentToken.objects.filter(name="bench-posture").exists() or AgentToken.issue("bench-posture", fleet=True)
        start = time.perf_counter()
        connection.close()
        with Pool(2) as pool:
            pool.map(seed, [missing[k::2] for k in range(2)])
        print(f"seeded {len(missing)} hosts in {time.perf_counter() - start:.0f} s")
    user = User.objects.filter(username="bench-auditor").first() or User.objects.create_user("bench-auditor")
    user.groups.add(Group.objects.get(name="auditor"))
    client = APIClient()
    client.force_authenticate(user)
    url = f"/api/v1/posture/{args.framework}/"
    params = {"scope": args.scope} if args.scope else {}
    client.get(url, params)  # warm-up
    times, queries = [], 0
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url, params)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content[:500]
        queries = len(ctx.captured_queries)
    summary = response.json()["summary"]
    db = connection.settings_dict["ENGINE"].rsplit(".", 1)[-1]
    print(f"posture {args.framework} scope={args.scope or 'all'}: {summary['hosts']} hosts, "
          f"{Result.objects.count()} results stored, database {db}")
    print(f"  median   {statistics.median(times) * 1000:.0f} ms")
    print(f"  worst    {max(times) * 1000:.0f} ms")
    print(f"  queries  {queries}")
    print(f"  summary  passing {summary['passing']}, failing {summary['failing']}, "
          f"needs_evidence {summary['needs_evidence']}, not_covered {summary['not_covered']}")


if __name__ == "__main__":
    main()
