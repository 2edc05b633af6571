"""/api/v1/mappings/ (filters and CSV export) and /api/v1/crosswalks/."""

import csv
import io

from django.test import Client

from frameworks.loader import LoadReport
from frameworks.models import Mapping


def test_it_filters_mappings_by_source_requirement_and_target_framework(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get(
        "/api/v1/mappings/", {"source_framework": "cis-docker-1.6.0", "source": "2.7", "target_framework": "pci-dss-4.0"}
    )

    rows = response.json()["results"]
    assert response.status_code == 200
    assert {row["target"] for row in rows} == {"2.2.1", "2.2.7", "8.3.1", "8.3.2"}
    row = next(row for row in rows if row["target"] == "2.2.7")
    assert row["relationship"] == "subset"
    assert row["crosswalk"] == "cis-docker-1.6.0-to-pci-dss-4.0"
    assert row["rationale"]


def test_it_filters_mappings_by_target_requirement(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/mappings/", {"target_framework": "gdpr", "target": "33(5)"})

    assert [row["source"] for row in response.json()["results"]] == ["2.13"]


def test_it_exports_a_crosswalk_as_csv(catalogs: LoadReport, alice_client: Client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(5):
        response = alice_client.get(
            "/api/v1/mappings/", {"crosswalk": "cis-docker-1.6.0-to-hipaa-security-rule", "format": "csv"}
        )
        body = b"".join(response.streaming_content).decode()  # the rows are read from the database as they stream

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cis-docker-1.6.0-to-hipaa-security-rule.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == Mapping.objects.filter(crosswalk__slug="cis-docker-1.6.0-to-hipaa-security-rule").count()
    assert len(rows) > 50  # every row, not one page
    assert list(rows[0]) == [
        "crosswalk",
        "source_framework",
        "source",
        "source_title",
        "target_framework",
        "target",
        "target_title",
        "relationship",
        "rationale",
        "provenance",
    ]
    assert {row["target_framework"] for row in rows} == {"hipaa-security-rule"}


def test_it_defuses_spreadsheet_formulas_in_the_csv_export(catalogs: LoadReport, alice_client: Client) -> None:
    mapping = Mapping.objects.filter(crosswalk__slug="cis-docker-1.6.0-to-gdpr").order_by("order").first()
    formula = '=HYPERLINK("http://evil")'
    Mapping.objects.filter(pk=mapping.pk).update(rationale=formula, provenance="-2+3")

    response = alice_client.get("/api/v1/mappings/", {"crosswalk": "cis-docker-1.6.0-to-gdpr", "format": "csv"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["rationale"] == f"'{formula}" and rows[0]["provenance"] == "'-2+3"
    assert all(not row["rationale"].startswith(("=", "+", "-", "@")) for row in rows)


def test_it_lists_crosswalks_with_their_size(catalogs: LoadReport, alice_client: Client) -> None:
    body = alice_client.get("/api/v1/crosswalks/", {"target_framework": "gdpr"}).json()

    assert body["count"] == 1
    crosswalk = body["results"][0]
    assert crosswalk["source_framework"] == "cis-docker-1.6.0"
    assert crosswalk["mapping_count"] == Mapping.objects.filter(crosswalk__slug=crosswalk["slug"]).count()


def test_the_schema_documents_the_catalog_routes(catalogs: LoadReport, alice_client: Client) -> None:
    response = alice_client.get("/api/v1/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert "/api/v1/frameworks/{framework_slug}/requirements/" in paths
    parameters = {p["name"] for p in paths["/api/v1/frameworks/{framework_slug}/requirements/"]["get"]["parameters"]}
    assert {"parent", "depth", "assessable", "nested", "page"} <= parameters
    assert "/api/v1/mappings/" in paths
