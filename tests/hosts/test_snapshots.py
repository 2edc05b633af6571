"""The snapshot page (evidence, what the agent saw, results) and the diff between two snapshots of one host."""

from __future__ import annotations

import copy
import csv
import datetime
import gzip
import io

import pytest
from django.test import Client

from compliance.posture.services import snapshot_rows
from inventory.models import Snapshot
from tests.hosts.conftest import T0

pytestmark = pytest.mark.django_db


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def container(doc, name):
    return next(c for c in doc["docker"]["containers"] if c["inspect"]["Name"].lstrip("/") == name)


def test_it_shows_a_snapshot_to_auditors_only(estate, now, bob, charlie):
    path = f"/snapshots/{estate['web'].pk}/"
    assert get(bob, path).status_code == 200
    assert get(charlie, path).status_code == 403
    assert get(bob, "/snapshots/999999/").status_code == 404


def test_it_shows_the_evidence_and_what_the_agent_saw(estate, now, bob):
    snapshot = estate["web"]
    response = get(bob, f"/snapshots/{snapshot.pk}/")
    html = response.content.decode()
    assert snapshot.sha256 in html and "verified" in html
    assert f'href="/api/v1/snapshots/{snapshot.pk}/"' in html
    assert "docker.plugins" in html  # an agent error of the sample
    assert "Debian GNU/Linux 12 (bookworm)" in html  # host facts
    assert "Storage driver" in html and "overlay" in html  # daemon configuration
    containers = {c.name: c for c in response.context["containers"]}
    assert containers["pl-privileged"].privileged == "yes"
    assert containers["pl-hardened"].read_only == "yes" and containers["pl-hardened"].user == "1000"
    assert containers["pl-hostnet"].network_mode == "host"
    assert containers["pl-hostpid"].pid_mode == "host"
    assert "/etc -> /host-etc (ro, bind)" in containers["pl-hostnet"].mounts
    assert "NET_RAW" in containers["pl-hardened"].capabilities
    assert [i.tags for i in response.context["images"]] == ["localhost/local/busybox:1"]
    assert [n.name for n in response.context["networks"]] == ["podman"]
    # Its results, with the statuses posture gives them.
    rows = {row.result.pk: row.status for g in response.context["groups"] for row, _ in g["rows"]}
    host = snapshot.host
    assert rows == {row.result.pk: row.status for row in snapshot_rows(snapshot, host.effective_labels)}
    assert "excepted" in set(rows.values())


def test_it_says_when_the_stored_document_no_longer_matches_its_hash(estate, now, bob):
    snapshot = estate["db"]
    tampered = snapshot.canonical.replace(b'"db"', b'"dB"', 1)
    Snapshot.objects.filter(pk=snapshot.pk).update(content=gzip.compress(tampered))
    html = get(bob, f"/snapshots/{snapshot.pk}/").content.decode()
    assert "does not match" in html and "verified" not in html.split("sha256", 1)[1].split("</dd>", 1)[0]


def test_it_exports_a_snapshots_results(estate, now, bob):
    snapshot = estate["build"]
    response = get(bob, f"/snapshots/{snapshot.pk}/", status="fail", export="csv")
    records = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = [r for r in snapshot_rows(snapshot, snapshot.host.effective_labels) if r.status == "fail"]
    assert [(r["control"], r["target_name"]) for r in records] == [(r.result.control, r.result.target_name) for r in expected]


@pytest.fixture
def changed(estate, push):
    """A later snapshot of web: a container added, pl-web made privileged, an image added, live restore on."""
    def change(doc):
        added = copy.deepcopy(container(doc, "pl-hardened"))
        added["inspect"]["Name"] = "/pl-new"
        added["inspect"]["Id"] = "f" * 64
        doc["docker"]["containers"].append(added)
        container(doc, "pl-web")["inspect"]["HostConfig"]["Privileged"] = True
        image = copy.deepcopy(doc["docker"]["images"][0])
        image["inspect"]["Id"] = "sha256:" + "e" * 64
        image["inspect"]["RepoTags"] = ["localhost/local/tool:2"]
        doc["docker"]["images"].append(image)
        doc["docker"]["info"]["LiveRestoreEnabled"] = True

    return estate["web"], push("web", at=T0 + datetime.timedelta(hours=6), change=change)


def test_it_diffs_two_snapshots_of_a_host(changed, now, bob):
    before, after = changed
    response = get(bob, f"/snapshots/{before.pk}/diff/{after.pk}/")
    assert response.status_code == 200
    diff = response.context["diff"]
    assert [c.name for c in diff.containers_added] == ["pl-new"]
    assert diff.containers_removed == []
    changes = {c.name: {ch.name: (ch.before, ch.after) for ch in c.changes} for c in diff.containers_changed}
    assert changes == {"pl-web": {"Privileged": ("no", "yes")}}
    assert [i.tags for i in diff.images_added] == ["localhost/local/tool:2"] and diff.images_removed == []
    assert {ch.name: (ch.before, ch.after) for ch in diff.daemon_changes} == {"Live restore": ("no", "yes")}
    flipped = {(f.after.result.control, f.after.result.target_name): (str(f.before.status), str(f.after.status))
               for f in diff.flipped}
    assert flipped[("5.5", "pl-web")] == ("pass", "fail")
    assert flipped[("2.15", "web")] == ("fail", "pass")
    assert all(f.before.status != f.after.status for f in diff.flipped)
    assert {r.result.target_name for r in diff.results_added} == {"pl-new", "localhost/local/tool:2"}
    html = response.content.decode()
    assert "pl-new" in html and "Privileged" in html and 'href="/controls/5.5/"' in html


def test_it_shows_no_change_between_a_snapshot_and_an_identical_one(estate, push, now, bob):
    again = push("web", at=T0 + datetime.timedelta(hours=1))
    diff = get(bob, f"/snapshots/{estate['web'].pk}/diff/{again.pk}/").context["diff"]
    assert diff.empty


def test_it_refuses_a_diff_of_two_hosts(estate, now, bob):
    response = get(bob, f"/snapshots/{estate['web'].pk}/diff/{estate['db'].pk}/")
    assert response.status_code == 400
    assert "different hosts" in response.content.decode()


def test_it_compares_with_the_snapshot_chosen_on_the_page(changed, now, bob):
    before, after = changed
    page = get(bob, f"/snapshots/{after.pk}/")
    html = page.content.decode()
    assert f'href="/snapshots/{before.pk}/diff/{after.pk}/"' in html  # compare with previous
    response = get(bob, f"/snapshots/{after.pk}/diff/", against=str(before.pk))
    assert response.status_code == 302 and response["Location"] == f"/snapshots/{before.pk}/diff/{after.pk}/"
    for against in ("", "x", str(after.pk)):
        assert get(bob, f"/snapshots/{after.pk}/diff/", against=against).status_code == 400
