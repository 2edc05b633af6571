"""Report benchmark: a signed PCI DSS report over N hosts of 30 containers each (the posture bench fleet).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plimsoll_bench python bench/report.py [--hosts 1000]

Seeds like bench/posture.py (same hosts, reused between runs), then renders one framework report in a child process
(so its peak RSS is the report's alone) and, for comparison, bare WeasyPrint laying out a plain table with as many rows
as the report's PDF body has. Prints the wall time, pages, peak RSS, findings (rows of findings.csv) and the ratio.
Goal at 1,000 hosts: under 90 s and 1.5 GB, ratio at most 1.5.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from multiprocessing import Pool, Process, Queue
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
os.environ.setdefault("PLIMSOLL_HTTPS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

from bench.posture import PREFIX, seed  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_child(report_id: int, out: Queue) -> None:
    """Render one report as the worker would, counting the table rows of its HTML body."""
    django.setup()
    import compliance.reports.render as render
    from compliance.reports import services
    from compliance.reports.models import Report

    real = render.write_pdf
    rows = {}

    def counting(html, pack, target):  # type: ignore[no-untyped-def]
        rows["body"] = html.count("<tr")
        # Table rows plus the other line items of the body: requirement sections and contents entries.
        rows["items"] = rows["body"] + html.count('<section class="req"') + html.count("<li")
        if os.environ.get("BENCH_HTML"):  # keep the laid-out HTML, to study the layout cost
            Path(os.environ["BENCH_HTML"]).write_text(html, encoding="utf-8")
        return real(html, pack, target)

    render.write_pdf = counting
    stages: list[tuple[float, str]] = []
    real_progress = services.set_progress

    def timed(report_id: int, percent: int, stage: str) -> None:
        stages.append((time.perf_counter(), stage.split(" of CIS")[0]))
        real_progress(report_id, percent, stage)

    services.set_progress = timed
    start, cpu = time.perf_counter(), time.process_time()
    services.render_report(report_id)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    stages.append((time.perf_counter(), "end"))
    phases: dict[str, float] = {}
    for (at, stage), (after, _) in zip(stages, stages[1:], strict=False):
        phases[stage] = phases.get(stage, 0.0) + after - at
    report = Report.objects.get(pk=report_id)
    out.put({"seconds": elapsed, "rows": rows.get("body", 0), "peak_mb": _peak_mb(), "status": report.status,
             "error": report.error, "phases": phases, "cpu": cpu,
             "items": rows.get("items", 0)})


def bare_child(rows: int, out: Queue) -> None:
    """Bare WeasyPrint: a plain five-column table of `rows` rows, laid out and written in one pass."""
    from weasyprint import HTML

    body = "".join(f"<tr><td>{i}</td><td>host-{i:05d}</td><td>container-{i}</td><td>5.{i % 30}</td><td>fail</td></tr>"
                   for i in range(rows))
    start, cpu = time.perf_counter(), time.process_time()
    HTML(string=f"<html><body><table>{body}</table></body></html>").write_pdf()
    out.put({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "peak_mb": _peak_mb()})


def in_child(target, *args):  # type: ignore[no-untyped-def]
    queue: Queue = Queue()
    process = Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--framework", default="pci-dss-4.0")
    parser.add_argument("--scope", default="")
    args = parser.parse_args()

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from compliance.reports.models import Report
    from compliance.reports.services import validate_request
    from inventory.models import AgentToken, Host

    call_command("migrate", verbosity=0)
    call_command("load_frameworks", stdout=io.StringIO())
    have = set(Host.objects.filter(machine_id__startswith=PREFIX).values_list("machine_id", flat=True))
    missing = [i for i in range(args.hosts) if f"{PREFIX}{i:05d}" not in have]
    if missing:
        # The posture bench's token, as a fleet token: a host token enrols one host only.
        if not AgentToken.objects.filter(name="bench-posture").exists():
            AgentToken.issue("bench-posture", fleet=True)
        AgentToken.objects.filter(name="bench-posture").update(fleet=True)
        start = time.perf_counter()
        connection.close()
        with Pool(2) as pool:
            pool.map(seed, [missing[k::2] for k in range(2)])
        print(f"seeded {len(missing)} hosts in {time.perf_counter() - start:.0f} s")
    user = User.objects.filter(username="bench-manager").first() or User.objects.create_user("bench-manager")
    user.groups.add(Group.objects.get(name="security_manager"))
    # Created directly (not request_report) so the render runs in the child, not on commit in this process.
    report = Report.objects.create(requested_by=user, **validate_request(
        {"kind": "framework", "framework": args.framework, "scope": args.scope}))
    connection.close()

    result = in_child(render_child, report.pk)
    if result["status"] != "done":
        sys.exit(f"report {report.pk} {result['status']}: {result['error']}")
    report.refresh_from_db()
    findings = next(a["rows"] for a in _manifest(report)["attachments"] if a["name"] == "findings.csv")
    bare = in_child(bare_child, result["rows"])
    bare_items = in_child(bare_child, result["items"])
    hosts = Host.objects.filter(machine_id__startswith=PREFIX).count()
    db = connection.settings_dict["ENGINE"].rsplit(".", 1)[-1]
    print(f"report {report.pk}: {args.framework} scope={args.scope or 'all'}, {hosts} bench hosts, database {db}")
    print(f"  wall time      {result['seconds']:.1f} s (render, sign, store); CPU {result['cpu']:.1f} s")
    print(f"  pages          {report.pages}, {report.size_bytes / 1e6:.1f} MB")
    print(f"  peak RSS       {result['peak_mb']:.0f} MB")
    print(f"  findings       {findings} rows in findings.csv")
    print(f"  PDF body       {result['rows']} table rows")
    print(f"  bare WeasyPrint {bare['seconds']:.1f} s (CPU {bare['cpu']:.1f} s), {bare['peak_mb']:.0f} MB for a plain "
          f"table of {result['rows']} rows")
    # CPU time too: on a shared machine the wall-time ratio moves with the load of the moment.
    print(f"  ratio          {result['seconds'] / max(bare['seconds'], 1e-9):.2f}x wall, "
          f"{result['cpu'] / max(bare['cpu'], 1e-9):.2f}x CPU")
    print(f"  PDF body items {result['items']} (table rows, requirement sections, contents entries): bare WeasyPrint "
          f"{bare_items['seconds']:.1f} s (CPU {bare_items['cpu']:.1f} s), "
          f"ratio {result['seconds'] / bare_items['seconds']:.2f}x wall, {result['cpu'] / max(bare_items['cpu'], 1e-9):.2f}x CPU")
    print("  phases         " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result["phases"].items()
                                          if seconds >= 0.1))


def _manifest(report) -> dict:  # type: ignore[no-untyped-def]
    import json

    import pypdf

    with report.file.open("rb") as handle:
        return json.loads(pypdf.PdfReader(handle).attachments["manifest.json"][0])


if __name__ == "__main__":
    main()
