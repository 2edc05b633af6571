"""The trend: `record_posture --backfill DAYS` rebuilds one record per day with that day's as-of posture; seed_demo
seeds three weeks of judged history and its records, idempotently."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from compliance.dashboard.trend import end_of_day
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import compute_posture
from frameworks.models import Framework
from inventory.models import Host, Snapshot
from tests.conftest import sample_snapshots

pytestmark = pytest.mark.django_db
TODAY = datetime.datetime.now(datetime.UTC).date()


def run(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def days_ago(n: int, hour: int = 12) -> datetime.datetime:
    day = TODAY - datetime.timedelta(days=n)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@pytest.fixture
def history(judged_host):
    """web fails 2.5 from 4 days ago, is fixed 2 days ago; db appears 1 day ago, passing."""
    judged_host("web", {"2.5": ["fail"]}, labels={"pci": "cde"}, at=days_ago(4))
    judged_host("web", {"2.5": ["pass"]}, labels={"pci": "cde"}, at=days_ago(2))
    judged_host("db", {"2.5": ["pass"]}, labels={}, at=days_ago(1))


def test_it_backfills_one_record_per_day_with_that_days_as_of_posture(history):
    Assessment.objects.create(name="CDE", framework_slug="pci-dss-4.0", selector="pci=cde")
    out = run("record_posture", backfill=10)
    frameworks = list(Framework.objects.filter(is_current=True).values_list("slug", flat=True))
    # Days before the first snapshot are skipped: 4 days ago up to today.
    days = [TODAY - datetime.timedelta(days=n) for n in range(4, -1, -1)]
    for slug in frameworks:
        records = list(PostureRecord.objects.filter(framework_slug=slug, selector="").order_by("day"))
        assert [r.day for r in records] == days
        for record in records[:-1]:
            expected = compute_posture(slug, as_of=end_of_day(record.day)).summary.as_dict()
            assert record.summary == expected, (slug, record.day)
        assert records[-1].summary == compute_posture(slug).summary.as_dict()
    assert PostureRecord.objects.filter(selector="pci=cde").count() == len(days)
    assert f"over {len(days)} days" in out
    pci = {r.day: r for r in PostureRecord.objects.filter(framework_slug="pci-dss-4.0", selector="")}
    failing = {day: r.summary["failing"] for day, r in pci.items()}
    assert failing[days[0]] > failing[days[2]]  # 2.5 failed 4 days ago and was fixed 2 days ago
    assert pci[days[0]].hosts == 2 and pci[days[0]].summary["hosts_without_results"] == 1  # db had no snapshot yet


def test_its_backfill_is_idempotent(history):
    run("record_posture", backfill=3)
    first = {(r.framework_slug, r.selector, r.day): r.summary for r in PostureRecord.objects.all()}
    run("record_posture", backfill=3)
    assert {(r.framework_slug, r.selector, r.day): r.summary for r in PostureRecord.objects.all()} == first


def test_without_backfill_it_records_today(history):
    run("record_posture")
    assert set(PostureRecord.objects.values_list("day", flat=True)) == {TODAY}


def test_it_refuses_a_negative_backfill(history):
    with pytest.raises(CommandError, match="--backfill"):
        run("record_posture", backfill=-1)


def test_seed_demo_seeds_three_weeks_of_judged_history_idempotently(catalogs, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    first = run("seed_demo")
    hosts = Host.objects.count()
    assert hosts == len(sample_snapshots())
    snapshots = Snapshot.objects.count()
    assert snapshots > hosts  # history, not one snapshot per host
    assert not Snapshot.objects.exclude(evaluation_status="done").exists()
    oldest = Snapshot.objects.order_by("collected_at").first().collected_at
    assert datetime.datetime.now(datetime.UTC) - oldest >= datetime.timedelta(days=20)
    cis = list(PostureRecord.objects.filter(framework_slug="cis-docker-1.6.0", selector="").order_by("day"))
    assert len(cis) >= 21
    assert len({json.dumps({k: r.summary[k] for k in ("passing", "failing")}) for r in cis}) > 1  # it changes
    creds = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert creds["auditor"] in first and str(tmp_path / "demo-credentials.json") in first
    second = run("seed_demo")
    assert "(0 new)" in second
    assert Snapshot.objects.count() == snapshots
    assert PostureRecord.objects.filter(framework_slug="cis-docker-1.6.0", selector="").count() == len(cis)
