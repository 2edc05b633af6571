"""/api/v1/frameworks/ and /api/v1/frameworks/{slug}/requirements/."""

from django.test import Client

from frameworks.loader import LoadReport


def test_it_needs_an_authenticated_user(catalogs: LoadReport, client: Client) -> None:
    response = client.get("/api/v1/frameworks/")

    assert response.status_code in {401, 403}
    assert response.json()["error"] in {"not_authenticated", "permission_denied"}


def test_it_lists_the_current_frameworks(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/frameworks/")

    assert response.status_code == 200
    body = response.json()
    assert [f["slug"] for f in body["results"]] == [
        "cis-docker-1.6.0", "gdpr", "hipaa-security-rule", "pci-dss-4.0", "pci-dss-4.0.1"]
    pci = body["results"][3]
    assert pci["urn"] == "urn:plimsoll:framework:pci-dss-4.0"
    assert pci["requirement_count"] == 367
    assert pci["revision"] == 1


def test_it_shows_one_framework_by_its_dotted_slug(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/frameworks/pci-dss-4.0/")

    assert response.status_code == 200
    assert response.json()["version"] == "4.0"
    assert alice_client.get("/api/v1/frameworks/pci-dss-9.9/").status_code == 404
    assert alice_client.get("/api/v1/frameworks/pci-dss-4.0/?revision=7").status_code == 404
    assert alice_client.get("/api/v1/frameworks/pci-dss-4.0/?revision=x").status_code == 400


def test_it_refuses_writes(catalogs: LoadReport, alice_client: Client) -> None:
    assert alice_client.post("/api/v1/frameworks/", {}).status_code in {403, 405}
    assert alice_client.delete("/api/v1/frameworks/gdpr/").status_code in {403, 405}


def test_it_filters_requirements_by_parent(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/frameworks/pci-dss-4.0/requirements/", {"parent": "2.2"})

    body = response.json()
    assert response.status_code == 200
    assert [r["ref_id"] for r in body["results"]] == [f"2.2.{n}" for n in range(1, 8)]
    assert body["results"][0]["parent"] == "2.2"
    assert body["results"][0]["urn"] == "urn:plimsoll:req:pci-dss-4.0:2.2.1"


def test_it_filters_requirements_by_depth_and_assessable(catalogs: LoadReport, alice_client: Client) -> None:
    url = "/api/v1/frameworks/pci-dss-4.0/requirements/"

    roots = alice_client.get(url, {"depth": 1}).json()
    not_assessable = alice_client.get(url, {"assessable": "false"}).json()
    cis = alice_client.get("/api/v1/frameworks/cis-docker-1.6.0/requirements/", {"assessable": "true"}).json()

    assert roots["count"] == 13
    assert not_assessable["count"] == 16
    assert cis["count"] == 117
    assert {"level", "assessment"} <= set(cis["results"][0])


def test_it_nests_children_on_request(catalogs: LoadReport, alice_client: Client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(8):
        response = alice_client.get("/api/v1/frameworks/hipaa-security-rule/requirements/", {"nested": "true"})

    body = response.json()
    assert body["count"] == 5
    technical = next(node for node in body["results"] if node["ref_id"] == "164.312")
    access_control = next(node for node in technical["children"] if node["ref_id"] == "164.312(a)(1)")
    assert [c["ref_id"] for c in access_control["children"]][:1] == ["164.312(a)(2)(i)"]
    assert access_control["children"][0]["implementation"] == "required"


def test_it_rejects_a_bad_filter_value(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/frameworks/gdpr/requirements/", {"depth": "deep"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_it_shows_one_requirement_by_its_ref_id(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/frameworks/hipaa-security-rule/requirements/164.312(a)(2)(iv)/")

    assert response.status_code == 200
    body = response.json()
    assert body["parent"] == "164.312(a)(1)"
    assert (body["implementation"], body["safeguard"]) == ("addressable", "technical")
