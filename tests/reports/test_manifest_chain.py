"""Every report's manifest carries the hash-chain heads it used: per host, the sha256 of the snapshot the report
stands on, the previous_sha256 it chains to, and the host's newest snapshot when the report was made."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from compliance.reports.services import chain_heads
from inventory.models import Snapshot
from tests.posture.conftest import T0

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def chains(judged_host: Any) -> dict[str, list[Snapshot]]:
    """web-01 pushed three times, db-01 once."""
    web = [judged_host("web-01", {"2.5": ["fail"]}, at=T0 + i * HOUR) for i in range(3)]
    db = [judged_host("db-01", {"2.5": ["pass"]}, at=T0)]
    return {"web": web, "db": db}


def test_each_host_names_the_snapshot_used_and_the_link_it_chains_to(chains, django_assert_max_num_queries):
    first, middle, last = chains["web"]
    with django_assert_max_num_queries(1):
        heads = chain_heads([middle.pk, chains["db"][0].pk])
    assert [h["host"] for h in heads] == ["db-01", "web-01"]
    web = heads[1]
    assert (web["snapshot"], web["sha256"]) == (middle.pk, middle.sha256)
    assert web["previous_sha256"] == first.sha256  # the link the chain holds
    assert (web["head_sha256"], web["newer"]) == (last.sha256, 1)
    db = heads[0]
    assert db["previous_sha256"] is None and db["head_sha256"] == db["sha256"] and db["newer"] == 0


def test_the_heads_walk_back_to_the_snapshot_used(chains):
    """From the head, each previous_sha256 leads to the snapshot the report used: the chain proves it."""
    first, middle, last = chains["web"]
    head = chain_heads([middle.pk])[0]
    by_sha = {s.sha256: s for s in Snapshot.objects.filter(host_id=middle.host_id)}
    walked, sha = [], head["head_sha256"]
    while sha != head["sha256"]:
        walked.append(sha)
        sha = by_sha[sha].previous_sha256
    assert walked == [last.sha256] and len(walked) == head["newer"]
    assert all(s.verify() for s in by_sha.values())


def test_a_report_over_no_host_has_no_heads():
    assert chain_heads([]) == []


def test_the_manifest_attached_to_the_pdf_carries_the_heads(chains, carol, make_report):
    import json

    from tests.reports.conftest import attachments, pdf_of

    report = make_report(carol, kind="hardening", host=chains["web"][0].host_id)
    manifest = json.loads(attachments(pdf_of(report))["manifest.json"])
    last = chains["web"][-1]
    assert [(h["host"], h["sha256"], h["previous_sha256"]) for h in manifest["chain_heads"]] == [
        ("web-01", last.sha256, chains["web"][1].sha256)]
    assert {s["sha256"] for s in manifest["snapshots"]} == {h["sha256"] for h in manifest["chain_heads"]}
