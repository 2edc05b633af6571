"""The published schema says what the API answers: errors in one shape on every operation, slugs as they are,
nullable fields, evidence requirements in both directions; and the answers it documents for odd ids and pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from common.schema import CATALOG_SLUG_PATTERN

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def error_ref(operation: dict[str, Any], code: str) -> str | None:
    response = operation["responses"].get(code)
    return response and response["content"]["application/json"]["schema"].get("$ref")


def test_it_documents_the_error_answers_of_every_operation(schema):
    assert len(operations(schema)) > 40
    for path, method, operation in operations(schema):
        label = f"{method.upper()} {path}"
        for code in ("401", "403", "429"):
            assert error_ref(operation, code) == ERROR_REF, (label, code)
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        if "path" in places:
            assert error_ref(operation, "404") == ERROR_REF, label
        if "requestBody" in operation:
            assert error_ref(operation, "400") == ERROR_REF and error_ref(operation, "415") == ERROR_REF, label
        if "query" in places:
            assert error_ref(operation, "400") == ERROR_REF, label
    assert "Retry-After" in schema["paths"]["/api/v1/hosts/"]["get"]["responses"]["429"]["headers"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "detail"}


def test_it_documents_a_chunked_ingest_refusal(schema):
    ingest = schema["paths"]["/api/v1/snapshots/"]["post"]["responses"]
    assert {"201", "200", "400", "401", "403", "411", "413", "415", "429"} <= set(ingest)


@pytest.mark.parametrize("slug", ["cis-docker-1.6.0", "pci-dss-4.0", "pci-dss-4.0.1", "hipaa-security-rule", "gdpr"])
def test_its_slug_patterns_accept_real_slugs(schema, slug):
    slug_parameters = [
        parameter["schema"]["pattern"]
        for _, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] in {"slug", "framework_slug"}
    ]
    assert len(slug_parameters) >= 5
    fields = [
        schema["components"]["schemas"][component]["properties"][name]["pattern"]
        for component, name in [("Framework", "slug"), ("Crosswalk", "slug"), ("Assessment", "framework_slug"),
                                ("PostureRecord", "framework_slug")]
    ]
    for pattern in {*slug_parameters, *fields}:
        assert re.search(pattern, slug), (pattern, slug)
    assert not re.search(CATALOG_SLUG_PATTERN, "PCI DSS/4")


@pytest.mark.parametrize(("component", "field"), [
    ("Snapshot", "agent"), ("Host", "last_snapshot_container_count"), ("Requirement", "parent"),
    ("RiskAcceptance", "approved_by"), ("RiskAcceptance", "scope_host_name"), ("Evidence", "download_url"),
])
def test_it_marks_fields_that_can_be_null_as_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_it_documents_evidence_requirements_as_strings_in_and_objects_out(schema):
    components = schema["components"]["schemas"]
    assert components["Evidence"]["properties"]["requirements"]["items"]["allOf"][0]["$ref"].endswith("/RequirementRef")
    assert components["EvidenceRequest"]["properties"]["requirements"]["items"]["type"] == "string"
    create = schema["paths"]["/api/v1/evidence/"]["post"]["requestBody"]["content"]
    assert create["application/json"]["schema"]["$ref"].endswith("/EvidenceRequest")


def test_it_lists_queued_among_evaluation_statuses(schema):
    accepted = schema["components"]["schemas"]["SnapshotAccepted"]["properties"]["evaluation"]
    enum = schema["components"]["schemas"][accepted["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == {"queued", "running", "done", "failed"}


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "³", "9" * 40])
def test_it_answers_400_naming_page_to_a_page_that_is_no_page_number(alice, page):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get("/api/v1/hosts/", {"page": page})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "page" in response.json()["detail"]


def test_it_answers_404_past_the_last_page_and_serves_page_sizes_up_to_the_maximum(alice):
    client = APIClient()
    client.force_authenticate(alice)
    past = client.get("/api/v1/hosts/", {"page": 2})
    assert past.status_code == 404 and past.json()["error"] == "not_found"
    assert client.get("/api/v1/hosts/", {"page": 1, "page_size": 100000}).status_code == 200
    assert client.get("/api/v1/hosts/", {"page": "last"}).status_code == 200
    refused = client.get("/api/v1/hosts/", {"page_size": 0})
    assert refused.status_code == 400 and "page_size" in refused.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/hosts/abc/", "/api/v1/snapshots/1.5/", "/api/v1/no-such-thing/",
                                  "/api/v1/hosts/1/nothing/"])
def test_it_answers_json_404_to_paths_no_route_matches(alice, path):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("url", ["/api/v1/containers/", "/api/v1/hosts/", "/api/v1/images/"])
@pytest.mark.parametrize("labels", ["env=%s", "%(x)s", "100%!"])
def test_it_answers_400_to_a_label_selector_holding_a_percent_sign(alice, url, labels):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get(url, {"label": labels})
    assert response.status_code == 400, response.content[:300]
    assert "label" in response.json()["detail"]


def test_it_answers_errors_in_json_when_csv_was_asked_for(alice):
    client = APIClient()
    client.force_authenticate(alice)
    response = client.get("/api/v1/mappings/", {"format": "csv", "target": "a\x00b"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid"


@pytest.mark.parametrize("key", ["cis-docker-1.6.0:5.5\x00", "x" * 400, True, {"a": 1}])
def test_it_answers_400_to_evidence_requirement_keys_no_database_can_look_up(carol, key):
    client = APIClient()
    client.force_authenticate(carol)
    body = {"kind": "note", "title": "t", "description": "d", "requirements": [key],
            "collected_at": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"}
    response = client.post("/api/v1/evidence/", body, format="json")
    assert response.status_code == 400
    assert "requirements" in response.json()["detail"]


def _api_views() -> list[type]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[type] = []

    def walk(patterns: list) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                found.append(pattern.callback.cls)

    walk(get_resolver().url_patterns)
    return found


def test_every_api_view_parses_json_with_the_strict_parser():
    """The strict parser turns nesting, lone surrogates and huge integers into a 400; DRF's own raised 500s."""
    from rest_framework.parsers import JSONParser

    from common.parsers import StrictJSONParser

    views = _api_views()
    assert len(views) > 20
    for view in views:
        for parser in view.parser_classes:
            assert not issubclass(parser, JSONParser) or issubclass(parser, StrictJSONParser), (view, parser)
