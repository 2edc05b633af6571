"""A host's effective labels (rules < agent < admin): stored, kept current, filtered on, and read as of a moment."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEvent
from inventory.labels import apply_label_rules, labels_at
from inventory.models import Host, HostLabels, LabelRule
from inventory.services import ingest_snapshot, set_host_labels

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def push(agent_token: Any, snapshot_doc: Callable[..., dict[str, Any]]) -> Callable[..., Host]:
    """push("web", {"pci": "cde"}) -> the host after ingesting a snapshot whose agent sent those labels."""
    count = iter(range(1000))

    def make(name: str, agent_labels: dict[str, str] | None = None) -> Host:
        doc = snapshot_doc()
        doc["host"]["machine_id"] = f"machine-{name}"
        doc["host"]["hostname"] = name
        doc["agent"]["labels"] = agent_labels or {}
        # A distinct document each time, so each push is a new snapshot.
        doc["agent"]["collected_at"] = (T0 + next(count) * datetime.timedelta(minutes=1)).isoformat()
        return Host.objects.get(pk=ingest_snapshot(doc, agent_token[0]).snapshot.host_id)

    return make


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw-root"))
    return client


def history(host: Host) -> list[dict[str, str]]:
    return list(HostLabels.objects.filter(host=host).order_by("valid_from", "id").values_list("labels", flat=True))


def test_a_host_labelled_by_its_agent_is_found_by_the_page_and_the_api_filter(push, bob, api_client_for):
    cde = push("db", {"pci": "cde"})
    push("office", {"env": "office"})
    assert cde.effective_labels == {"pci": "cde"}
    page = Client()
    page.force_login(bob)
    html = page.get("/hosts/", {"label": "pci=cde"}).content.decode()
    assert ">db<" in html and ">office<" not in html
    body = api_client_for(bob).get("/api/v1/hosts/", {"label": "pci=cde"}).json()
    assert [h["id"] for h in body["results"]] == [cde.pk]
    assert body["results"][0]["effective_labels"] == {"pci": "cde"}
    assert body["results"][0]["labels"] == {}
    assert api_client_for(bob).get("/api/v1/hosts/", {"label": "pci"}).json()["count"] == 1


def test_admin_labels_override_agent_labels_which_override_rules(push, alice, api_client_for):
    LabelRule.objects.create(key="tier", value="rule", fact="hostname", pattern="db*")
    LabelRule.objects.create(key="pci", value="rule", fact="hostname", pattern="db*")
    apply_label_rules()
    host = push("db", {"pci": "agent", "env": "agent"})
    assert host.effective_labels == {"tier": "rule", "pci": "agent", "env": "agent"}
    response = api_client_for(alice).put(f"/api/v1/hosts/{host.pk}/labels/", {"labels": {"env": "admin"}}, format="json")
    assert response.status_code == 200
    assert response.json()["effective_labels"] == {"tier": "rule", "pci": "agent", "env": "admin"}
    assert Host.objects.get(pk=host.pk).effective_labels == {"tier": "rule", "pci": "agent", "env": "admin"}


def test_it_records_a_history_row_only_when_the_labels_change(push):
    host = push("web")
    assert history(host) == [{}]
    push("web")
    assert history(host) == [{}]
    push("web", {"env": "prod"})
    set_host_labels(host.pk, {"env": "prod"}, by=None)  # the same effective labels: no new row
    set_host_labels(host.pk, {"owner": "ops"}, by=None)
    assert history(host) == [{}, {"env": "prod"}, {"env": "prod", "owner": "ops"}]
    assert Host.objects.get(pk=host.pk).effective_labels == {"env": "prod", "owner": "ops"}


def test_a_label_rule_change_in_the_admin_updates_the_stored_labels_and_is_audited(push, admin_client):
    db, web = push("db01"), push("web01")
    response = admin_client.post("/admin/inventory/labelrule/add/", {
        "key": "pci", "value": "cde", "fact": "hostname", "pattern": "db*",
        "created_at_0": "2026-11-30", "created_at_1": "10:00:00",
    })
    assert response.status_code == 302, response.content.decode()[:1500]
    rule = LabelRule.objects.get()
    assert Host.objects.get(pk=db.pk).effective_labels == {"pci": "cde"}
    assert Host.objects.get(pk=web.pk).effective_labels == {}
    response = admin_client.post(f"/admin/inventory/labelrule/{rule.pk}/change/", {
        "key": "pci", "value": "cde", "fact": "hostname", "pattern": "web*",
        "created_at_0": "2026-11-30", "created_at_1": "10:00:00",
    })
    assert response.status_code == 302
    assert Host.objects.get(pk=db.pk).effective_labels == {}
    assert Host.objects.get(pk=web.pk).effective_labels == {"pci": "cde"}
    response = admin_client.post(f"/admin/inventory/labelrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Host.objects.get(pk=web.pk).effective_labels == {}
    assert history(web) == [{}, {"pci": "cde"}, {}]
    actions = AuditEvent.objects.filter(content_type__model="labelrule").order_by("id").values_list("action", flat=True)
    assert list(actions) == ["create", "change", "delete"]


def test_deleting_label_rules_in_bulk_relabels_the_hosts_once_and_audits_each(push, admin_client):
    host = push("db01")
    rules = [LabelRule.objects.create(key=k, value="1", fact="hostname", pattern="db*") for k in ("a", "b")]
    apply_label_rules()
    assert Host.objects.get(pk=host.pk).effective_labels == {"a": "1", "b": "1"}
    response = admin_client.post("/admin/inventory/labelrule/", {
        "action": "delete_selected", "_selected_action": [r.pk for r in rules], "post": "yes",
    })
    assert response.status_code == 302
    assert not LabelRule.objects.exists()
    assert Host.objects.get(pk=host.pk).effective_labels == {}
    assert history(host) == [{}, {"a": "1", "b": "1"}, {}]
    assert AuditEvent.objects.filter(content_type__model="labelrule", action="delete").count() == 2


def test_labels_set_in_the_host_admin_update_the_stored_labels(push, admin_client):
    host = push("db01", {"env": "agent"})
    response = admin_client.post(f"/admin/inventory/host/{host.pk}/change/", {"labels": '{"env": "admin"}', "_save": "Save"})
    assert response.status_code == 302
    assert Host.objects.get(pk=host.pk).effective_labels == {"env": "admin"}
    response = admin_client.post(f"/admin/inventory/host/{host.pk}/change/", {"labels": '{"bad key": "x"}', "_save": "Save"})
    assert response.status_code == 200 and "bad key" in response.content.decode()
    assert Host.objects.get(pk=host.pk).labels == {"env": "admin"}


def test_labels_at_a_past_moment_are_the_labels_as_they_were(push):
    with time_machine.travel(T0, tick=False):
        web = push("web", {"env": "staging"})
        db = push("db")
    with time_machine.travel(T0 + DAY, tick=False):
        set_host_labels(web.pk, {"env": "prod", "pci": "cde"}, by=None)
    with time_machine.travel(T0 + 2 * DAY, tick=False):
        LabelRule.objects.create(key="pci", value="out", fact="hostname", pattern="db")
        apply_label_rules()
    assert labels_at(T0) == {web.pk: {"env": "staging"}, db.pk: {}}
    assert labels_at(T0 + DAY) == {web.pk: {"env": "prod", "pci": "cde"}, db.pk: {}}
    assert labels_at(T0 + 2 * DAY) == labels_at(None) == {web.pk: {"env": "prod", "pci": "cde"}, db.pk: {"pci": "out"}}
    # Before a host's first row, its earliest known labels stand.
    assert labels_at(T0 - DAY) == labels_at(T0)


def test_labels_at_costs_one_query_whatever_the_number_of_hosts(push, django_assert_num_queries):
    for name in ("a", "b", "c"):
        push(name, {"env": name})
    with django_assert_num_queries(1):
        assert len(labels_at(T0)) == 3
    for name in ("d", "e", "f", "g"):
        push(name, {"env": name})
    with django_assert_num_queries(1):
        assert len(labels_at(T0)) == 7
    with django_assert_num_queries(1):
        assert len(labels_at(None)) == 7


def test_a_host_without_history_has_its_current_labels(db):
    host = Host.objects.create(machine_id="m", hostname="h", effective_labels={"env": "prod"})
    assert labels_at(T0) == {host.pk: {"env": "prod"}}


@pytest.mark.parametrize("selector", ["=x", "==x", "=", "bad key=x", "k" * 64, "env=" + "v" * 64, "env\n=x"])
def test_a_malformed_label_filter_is_a_400_in_the_api_and_selects_nothing_on_the_page(push, bob, api_client_for, selector):
    push("web", {"env": "prod"})
    response = api_client_for(bob).get("/api/v1/hosts/", {"label": selector})
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"
    assert "label" in response.json()["detail"]
    page = Client()
    page.force_login(bob)
    response = page.get("/hosts/", {"label": selector})
    assert response.status_code == 200
    assert ">web<" not in response.content.decode()


@pytest.mark.parametrize(("selector", "found"), [
    ("team__owner=payments", True), ("team__owner", True), ("team=payments", False), ("team", False),
    ("team__owner__contains=pay", False), ("a.b/c=d", True), ("env=", True), ("env", True), ("env=x", False),
])
def test_label_keys_are_read_as_whole_keys(push, bob, api_client_for, selector, found):
    host = push("web", {"team__owner": "payments", "a.b/c": "d", "env": ""})
    body = api_client_for(bob).get("/api/v1/hosts/", {"label": selector}).json()
    assert [h["id"] for h in body["results"]] == ([host.pk] if found else [])


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "tab\there"])
def test_it_refuses_label_values_that_are_not_printable_text(value, alice, client, agent_client, snapshot_doc):
    from rest_framework.test import APIClient

    host = Host.objects.create(machine_id="m-odd", hostname="odd")
    api = APIClient()
    api.force_authenticate(alice)
    body = '{"pci": "' + value.encode("unicode_escape").decode().replace("\\x", "\\u00") + '"}'
    response = api.put(f"/api/v1/hosts/{host.pk}/labels/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    if value != "\ud800":  # a form post cannot even encode a lone surrogate
        client.force_login(alice)
        page = client.post(f"/hosts/{host.pk}/labels/", {"labels": f"pci={value}"})
        assert page.status_code == 302
    host.refresh_from_db()
    assert host.labels == {}
