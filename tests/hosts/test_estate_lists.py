"""Containers and images across the estate: the standing snapshots' rows, filters shared by the page, the API and
the export, the recommendations failing on each after the judge, and a cost flat in the fleet's size."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from inventory.models import Container, Snapshot
from tests.hosts.conftest import NOW, T0

pytestmark = pytest.mark.django_db
ESTATE_API = pytest.mark.urls("tests.hosts.urls")
MAX_QUERIES = 16


def get(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, params)


def names(response):
    return sorted((c.host.hostname, c.name) for c, _, _ in response.context["rows"])


def test_it_lists_the_standing_snapshots_containers_to_auditors_only(estate, push, now, bob, charlie):
    push("db", at=T0 - datetime.timedelta(days=1))  # an older snapshot: its containers are not listed
    response = get(bob, "/containers/")
    assert response.status_code == 200
    standing = Snapshot.objects.standing().values("pk")
    assert len(response.context["rows"]) == Container.objects.filter(snapshot__in=standing).count() == 19
    assert get(charlie, "/containers/").status_code == 403
    assert get(charlie, "/images/").status_code == 403


@pytest.mark.parametrize(("params", "expected"), [
    # 5.5 fails on web's pl-privileged; build's ci-runner is excepted (selector env=dev).
    ({"failing": "5.5"}, [("web", "pl-privileged")]),
    # 5.4: pl-web is excepted by a container-scoped exception on both hosts that run it.
    ({"failing": "5.4"}, [("build", "ci-runner"), ("web", "pl-privileged"), ("web", "pl-published")]),
    ({"failing": "5.5", "label": "env=dev"}, []),
    ({"label": "env=dev", "name": "ci-"}, [("build", "ci-cache"), ("build", "ci-runner")]),
    ({"hostname": "db", "running": "true"}, [("db", "pl-hardened"), ("db", "pl-health"), ("db", "postgres")]),
    ({"running": "false", "label": "pci=cde"}, [("web", "pl-exited"), ("web", "pl-published"), ("web", "pl-restart")]),
])
def test_it_filters_containers(estate, now, bob, params, expected):
    assert names(get(bob, "/containers/", **params)) == expected


@ESTATE_API
@pytest.mark.parametrize(("params", "expected"), [
    ({"failing": "5.5"}, [("web", "pl-privileged")]),
    ({"failing": "5.4", "hostname": "build"}, [("build", "ci-runner")]),
    ({"label": "env=dev", "name": "ci-"}, [("build", "ci-cache"), ("build", "ci-runner")]),
])
def test_the_estate_api_filters_as_the_page_does(estate, now, bob, api_client_for, params, expected):
    page = names(get(bob, "/containers/", **params))
    body = api_client_for(bob).get("/api/v1/estate/containers/", params).json()
    assert page == expected == sorted((r["hostname"], r["name"]) for r in body["results"])
    privileged = next((r for r in body["results"] if r["name"] == "pl-privileged"), None)
    if privileged:
        assert "5.5" in privileged["failing"] and privileged["failing"].index("5.4") < privileged["failing"].index("5.5")


@ESTATE_API
def test_the_estate_api_refuses_an_unknown_control_and_a_bad_selector(estate, now, bob, api_client_for):
    api = api_client_for(bob)
    for params in ({"failing": "9.9"}, {"label": "env=("}):
        response = api.get("/api/v1/estate/containers/", params)
        assert response.status_code == 400 and set(response.json()["detail"]) == set(params)
    assert api.get("/api/v1/estate/images/", {"failing": "5.5"}).status_code == 400  # not an image check
    assert api.get("/api/v1/estate/images/", {"failing": "4.6"}).status_code == 200


def test_it_shows_the_recommendations_failing_on_each_container(estate, now, bob):
    rows = {(c.host.hostname, c.name): failing for c, failing, _ in get(bob, "/containers/").context["rows"]}
    assert "5.5" in rows[("web", "pl-privileged")]
    assert "5.5" not in rows[("build", "ci-runner")] and "5.4" not in rows[("web", "pl-web")]
    assert "5.10" in rows[("web", "pl-hostnet")]
    html = get(bob, "/containers/", hostname="web").content.decode()
    assert 'href="/controls/5.10/"' in html


def test_it_explains_a_filter_it_cannot_read(estate, now, bob):
    for params in ({"failing": "9.9"}, {"label": "=x"}, {"failing": "4.6"}):
        response = get(bob, "/containers/", **params)
        html = response.content.decode()
        assert response.context["errors"] and "These filters cannot be read" in html
        assert "No container matches" not in html


def test_it_says_when_no_container_matches(estate, now, bob):
    html = get(bob, "/containers/", name="nothing-like-this").content.decode()
    assert "No container matches these filters" in html


@pytest.mark.parametrize("params", [{}, {"failing": "5.4"}, {"label": "env=prod", "running": "true"}])
def test_it_exports_the_containers_the_page_shows(estate, now, bob, params):
    page = [(c.host.hostname, c.name, ", ".join(f)) for c, f, _ in get(bob, "/containers/", **params).context["rows"]]
    response = get(bob, "/containers/", **params, export="csv")
    records = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["hostname"], r["name"], r["failing"]) for r in records] == page
    sheet = load_workbook(io.BytesIO(b"".join(get(bob, "/containers/", **params, export="xlsx").streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    h = values[0]
    assert [(v[h.index("hostname")], v[h.index("name")], v[h.index("failing")] or "") for v in values[1:]] == page


def test_it_lists_images_with_their_failing_recommendations(estate, now, bob):
    response = get(bob, "/images/")
    rows = {(i.host.hostname, i.tags[0]): (failing, used) for i, failing, used in response.context["rows"]}
    assert set(rows) == {(h, "localhost/local/busybox:1") for h in ("web", "db", "build")}
    assert "4.6" in rows[("web", "localhost/local/busybox:1")][0]
    assert "4.6" not in rows[("db", "localhost/local/busybox:1")][0]  # excepted on db (host scope)
    web_image = next(i for i, _, _ in response.context["rows"] if i.host.hostname == "web")
    used = Container.objects.filter(snapshot_id=web_image.snapshot_id, image_id=web_image.image_id).count()
    assert used > 0 and rows[("web", "localhost/local/busybox:1")][1] == used
    assert [i.host.hostname for i, _, _ in get(bob, "/images/", used="false").context["rows"]] == []


@pytest.mark.parametrize(("params", "expected"), [
    ({"failing": "4.6"}, ["build", "web"]),
    ({"failing": "4.6", "label": "env=prod"}, ["web"]),
    ({"image": "busybox"}, ["build", "db", "web"]),
    ({"image": "nginx"}, []),
    ({"hostname": "db"}, ["db"]),
])
def test_it_filters_images(estate, now, bob, params, expected):
    assert sorted(i.host.hostname for i, _, _ in get(bob, "/images/", **params).context["rows"]) == expected


@ESTATE_API
def test_the_images_apis_filter_as_the_page_does(estate, now, bob, api_client_for):
    body = api_client_for(bob).get("/api/v1/estate/images/", {"failing": "4.6"}).json()
    assert sorted(r["hostname"] for r in body["results"]) == ["build", "web"]
    assert all("4.6" in r["failing"] for r in body["results"])
    raw = api_client_for(bob).get("/api/v1/images/", {"image": "busybox", "latest": "true"}).json()
    assert raw["count"] == 3 and {r["hostname"] for r in raw["results"]} == {"web", "db", "build"}


def test_it_exports_the_images_the_page_shows(estate, now, bob):
    page = [(i.host.hostname, i.image_id, ", ".join(f)) for i, f, _ in get(bob, "/images/", failing="4.6").context["rows"]]
    records = list(csv.DictReader(io.StringIO(
        b"".join(get(bob, "/images/", failing="4.6", export="csv").streaming_content).decode())))
    assert [(r["hostname"], r["image_id"], r["failing"]) for r in records] == page
    sheet = load_workbook(io.BytesIO(b"".join(get(bob, "/images/", failing="4.6", export="xlsx").streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    h = values[0]
    assert [(v[h.index("hostname")], v[h.index("image_id")], v[h.index("failing")]) for v in values[1:]] == page


@pytest.mark.parametrize("path", ["/containers/", "/containers/?failing=5.4", "/images/", "/images/?failing=4.6"])
def test_the_lists_cost_the_same_queries_for_a_bigger_fleet(estate, push, now, bob, path, django_assert_max_num_queries):
    client = Client()
    client.force_login(bob)
    with django_assert_max_num_queries(MAX_QUERIES) as small:
        assert client.get(path).status_code == 200
    for i in range(6):
        push(f"web-{i}", at=T0 + datetime.timedelta(minutes=i))
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(MAX_QUERIES) as big:
        response = client.get(path)
    assert response.context["rows"]
    assert len(big.captured_queries) == len(small.captured_queries)
