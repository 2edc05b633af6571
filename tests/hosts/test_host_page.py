"""The host page: results by CIS section with the judge's statuses, a status filter, natural order, history links,
and the export of exactly the rows shown."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from compliance.posture.services import ref_key, snapshot_rows
from inventory.choices import EvaluationStatus
from inventory.models import Host, Snapshot
from tests.hosts.conftest import T0

pytestmark = pytest.mark.django_db


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def shown_rows(response):
    return [row for group in response.context["groups"] for row, _ in group["rows"]]


def test_it_shows_a_host_to_auditors_and_refuses_a_user_without_a_role(estate, now, bob, charlie):
    web = estate["web"].host_id
    assert get(bob, f"/hosts/{web}/").status_code == 200
    assert get(charlie, f"/hosts/{web}/").status_code == 403
    assert get(bob, "/hosts/999999/").status_code == 404


def test_it_groups_results_by_cis_section_with_the_judges_statuses(estate, now, bob):
    host = Host.objects.get(hostname="web")
    response = get(bob, f"/hosts/{host.pk}/")
    groups = response.context["groups"]
    assert [(g["ref_id"], g["title"]) for g in groups][:2] == [("1", "Host Configuration"), ("2", "Docker daemon configuration")]
    assert all(row.result.control.split(".")[0] == g["ref_id"] for g in groups for row, _ in g["rows"])
    expected = {row.result.pk: row.status for row in snapshot_rows(estate["web"], host.effective_labels)}
    shown = {row.result.pk: row.status for row in shown_rows(response)}
    assert shown == expected
    statuses = set(shown.values())
    assert {"pass", "fail", "excepted", "attested", "manual"} <= statuses
    html = response.content.decode()
    assert "Host Configuration" in html and 'href="/controls/5.4/"' in html
    assert 'badge excepted' in html and 'badge attested' in html


def test_it_lists_ids_in_natural_order(estate, now, bob):
    response = get(bob, f"/hosts/{estate['web'].host_id}/")
    controls = [row.result.control for row in shown_rows(response)]
    assert controls == sorted(controls, key=ref_key)
    html = response.content.decode()
    assert html.index('href="/controls/1.1.5/"') < html.index('href="/controls/1.1.18/"')
    assert {"5.9", "5.24"} <= set(controls)
    assert html.index('href="/controls/5.9/"') < html.index('href="/controls/5.24/"')


@pytest.mark.parametrize("status", ["fail", "excepted", "attested", "pass", "error"])
def test_it_filters_by_status(estate, now, bob, status):
    response = get(bob, f"/hosts/{estate['web'].host_id}/", status=status)
    rows = shown_rows(response)
    assert rows and {row.status for row in rows} == {status}
    all_rows = shown_rows(get(bob, f"/hosts/{estate['web'].host_id}/"))
    assert len(rows) == sum(1 for row in all_rows if row.status == status)


def test_it_explains_an_unknown_status(estate, now, bob):
    response = get(bob, f"/hosts/{estate['web'].host_id}/", status="bogus")
    assert response.status_code == 200
    assert "status: Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("status", ["", "fail"])
def test_it_exports_the_results_shown_in_csv_and_xlsx(estate, now, bob, status):
    path = f"/hosts/{estate['web'].host_id}/"
    rows = shown_rows(get(bob, path, status=status))
    expected = [(r.result.control, r.result.target_kind, r.result.target_name, str(r.status)) for r in rows]
    response = get(bob, path, status=status, export="csv")
    records = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["control"], r["target_kind"], r["target_name"], r["status"]) for r in records] == expected
    assert {r["section"] for r in records} <= {"1", "2", "3", "4", "5", "6", "7"}
    sheet = load_workbook(io.BytesIO(b"".join(get(bob, path, status=status, export="xlsx").streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    h = values[0]
    assert [(v[h.index("control")], v[h.index("target_kind")], v[h.index("target_name")], v[h.index("status")])
            for v in values[1:]] == expected


def test_it_links_the_snapshot_history_to_snapshot_pages_and_diffs(estate, push, now, bob):
    later = push("web", at=T0 + datetime.timedelta(hours=1))
    queued = push("web", at=T0 + datetime.timedelta(hours=2))
    Snapshot.objects.filter(pk=queued.pk).update(evaluation_status=EvaluationStatus.QUEUED)
    response = get(bob, f"/hosts/{later.host_id}/")
    html = response.content.decode()
    assert response.context["standing"].pk == later.pk
    assert [s.pk for s, _ in response.context["history_rows"]] == [queued.pk, later.pk, estate["web"].pk]
    assert [p.pk if p else None for _, p in response.context["history_rows"]] == [later.pk, estate["web"].pk, None]
    for s in (queued, later, estate["web"]):
        assert f'href="/snapshots/{s.pk}/"' in html
    assert f'href="/snapshots/{estate["web"].pk}/diff/{later.pk}/"' in html
    assert "the newer one is not judged yet" in html


def test_it_pages_a_long_history(estate, push, now, bob):
    for i in range(1, 22):
        push("db", at=T0 + datetime.timedelta(minutes=i))
    host = estate["db"].host_id
    first = get(bob, f"/hosts/{host}/").context
    second = get(bob, f"/hosts/{host}/", history="2").context
    assert len(first["history_rows"]) == 20 and len(second["history_rows"]) == 2
    # The last row of a page is compared with the first of the next.
    assert first["history_rows"][-1][1].pk == second["history_rows"][0][0].pk
    assert second["history_rows"][-1][1] is None


def test_it_says_when_no_snapshot_is_judged(push, now, bob, agent_token, snapshot_doc):
    snapshot = push("web")
    Snapshot.objects.filter(pk=snapshot.pk).update(evaluation_status=EvaluationStatus.QUEUED)
    html = get(bob, f"/hosts/{snapshot.host_id}/").content.decode()
    assert "No snapshot of this host has been judged yet." in html
