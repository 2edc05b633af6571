"""Page benchmark: the server time and query count of every page over N hosts of 30 containers (the posture fleet).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_bench_posture python bench/pages.py [--hosts 2000] [--runs 3]

Seeds the fleet as bench/posture.py does (same hosts, reused between runs; use a database of its own), then asks each
page through the Django test client as an auditor (administration pages as an admin) and prints, per page, the
best, median and worst server time of --runs requests and the query count. A page that is not mounted in this build
is listed as missing. Nothing is asserted: the query counts are asserted in the tests, at two fleet sizes.

The planner's statistics are refreshed (ANALYZE) before measuring, as autovacuum would have done after the seeding:
without them PostgreSQL guesses a few hundred evaluations where there are thousands, and unfolds the result view
through a nested loop that costs twice the hash join it picks once it knows.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
os.environ.setdefault("PLIMSOLL_HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

from bench.posture import PREFIX, seed  # noqa: E402

# (label, path or a callable of the first host's id and its standing snapshot's id, admin page?)
PAGES: list[tuple[str, str, bool]] = [
    ("overview", "/", False),
    ("overview, 365 days", "/?days=365", False),
    ("posture index", "/posture/", False),
    ("posture PCI DSS tree", "/posture/pci-dss-4.0/", False),
    ("posture tree, failing only", "/posture/pci-dss-4.0/?status=failing&q=2.2", False),
    ("posture tree over pci=cde", "/posture/pci-dss-4.0/?scope=pci%3Dcde", False),
    ("posture tree CSV", "/posture/pci-dss-4.0/?export=csv", False),
    ("drill-down 2.2.1 (117 checks)", "/posture/pci-dss-4.0/2.2.1/", False),
    ("drill-down 2.2.1, fail only", "/posture/pci-dss-4.0/2.2.1/?status=fail", False),
    ("drill-down 2.2.1, one host", "/posture/pci-dss-4.0/2.2.1/?host={hostname}", False),
    ("drill-down 2.2.5 CSV", "/posture/pci-dss-4.0/2.2.5/?export=csv", False),
    ("hosts", "/hosts/", False),
    ("host", "/hosts/{host}/", False),
    ("snapshot", "/snapshots/{snapshot}/", False),
    ("containers", "/containers/", False),
    ("images", "/images/", False),
    ("CIS recommendation 5.4", "/controls/5.4/", False),
    ("exceptions", "/exceptions/", False),
    ("evidence", "/evidence/", False),
    ("audit log", "/audit/", False),
    ("reports", "/reports/", False),
    ("administration", "/administration/", True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    django.setup()
    from multiprocessing import Pool

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from compliance.models import Result
    from inventory.models import AgentToken, Host, Snapshot

    call_command("migrate", verbosity=0)
    call_command("load_frameworks", stdout=io.StringIO())
    have = set(Host.objects.filter(machine_id__startswith=PREFIX).values_list("machine_id", flat=True))
    missing = [i for i in range(args.hosts) if f"{PREFIX}{i:05d}" not in have]
    if missing:
        AgentToken.objects.filter(name="bench-posture").exists() or AgentToken.issue("bench-posture", fleet=True)
        start = time.perf_counter()
        connection.close()
        with Pool(2) as pool:
            pool.map(seed, [missing[k::2] for k in range(2)])
        print(f"seeded {len(missing)} hosts in {time.perf_counter() - start:.0f} s")

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    clients = {}
    for name, role in (("bench-auditor", "auditor"), ("bench-admin", "admin")):
        user = User.objects.filter(username=name).first() or User.objects.create_user(name)
        user.groups.add(Group.objects.get(name=role))
        clients[role == "admin"] = Client()
        clients[role == "admin"].force_login(user)
    host = Host.objects.filter(machine_id__startswith=PREFIX).order_by("id").first()
    snapshot = Snapshot.objects.standing().filter(host=host).values_list("id", flat=True).first()
    values = {"host": host.pk, "hostname": host.hostname, "snapshot": snapshot}

    db = connection.settings_dict["ENGINE"].rsplit(".", 1)[-1]
    print(f"{Host.objects.count()} hosts, {Result.objects.filter(is_current=True).count()} current results, database {db}, "
          f"{args.runs} runs per page (server time through the Django test client)")
    print(f"{'page':<34} {'status':>6} {'best ms':>8} {'median ms':>10} {'worst ms':>9} {'queries':>8}")
    for label, template, admin in PAGES:
        path = template.format(**values)
        client = clients[admin]
        times, queries, status = [], 0, 0
        for _ in range(args.runs + 1):  # the first request warms caches and is not counted
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(path)
                if response.streaming:
                    b"".join(response.streaming_content)
                elapsed = time.perf_counter() - start
            times.append(elapsed)
            queries, status = len(ctx.captured_queries), response.status_code
        if status == 404:
            print(f"{label:<34} {'missing (not mounted in this build)':>45}")
            continue
        measured = times[1:]
        print(f"{label:<34} {status:>6} {min(measured) * 1000:>8.0f} {statistics.median(measured) * 1000:>10.0f} "
              f"{max(measured) * 1000:>9.0f} {queries:>8}")


if __name__ == "__main__":
    main()
