"""GET /api/v1/oscal/assessment-results/: OSCAL assessment results that trestle's models read back, and that say what
the posture API says."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from trestle.oscal.assessment_results import AssessmentResults

from compliance.oscal.documents import target_id
from tests.oscal.conftest import AS_OF

pytestmark = pytest.mark.django_db

URL = "/api/v1/oscal/assessment-results/"
PARAMS = {"framework": "pci-dss-4.0.1", "scope": "pci=cde", "as_of": AS_OF.isoformat()}
OBJECTIVE = {"passing": ("satisfied", "pass"), "failing": ("not-satisfied", "fail"),
             "needs_evidence": ("not-satisfied", "other"), "not_covered": ("not-satisfied", "other")}


def fetch(client: Any, **params: str) -> tuple[dict[str, Any], Any]:
    response = client.get(URL, {**PARAMS, **params})
    assert response.status_code == 200, response.content
    return json.loads(response.content), response


def text(value: Any) -> Any:
    """The plain value of a trestle enum or token (a union parses to either)."""
    while hasattr(value, "root") or hasattr(value, "value"):
        value = getattr(value, "root", None) if hasattr(value, "root") else value.value
    return value


def ns_props(obj: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in obj.props or []:
        found.setdefault(p.name, []).append(p.value)
    return found


def test_it_answers_a_download_that_trestle_reads_back(estate, bob, api_client_for):
    body, response = fetch(api_client_for(bob))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="plimsoll-pci-dss-4.0.1-pci_cde-{AS_OF:%Y-%m-%d}-assessment-results.json"'
    )
    model = AssessmentResults.model_validate(body["assessment-results"])
    metadata = ns_props(model.metadata)
    assert metadata["framework"] == ["PCI DSS 4.0.1"]
    assert metadata["framework-urn"] == ["urn:plimsoll:framework:pci-dss-4.0.1"]
    assert metadata["scope"] == ["pci=cde"]
    assert model.results[0].end == AS_OF


def test_its_findings_are_the_posture_statuses_of_every_requirement(estate, bob, api_client_for):
    client = api_client_for(bob)
    model = AssessmentResults.model_validate(fetch(client)[0]["assessment-results"])
    posture = client.get("/api/v1/posture/pci-dss-4.0.1/", {"scope": "pci=cde", "as_of": AS_OF.isoformat()}).json()
    expected = {r["ref_id"]: r["status"] for r in posture["requirements"]}
    findings = model.results[0].findings
    got = {ns_props(f)["requirement"][0]: f for f in findings}
    assert len(findings) == len(expected) == len(got)
    assert {ref: ns_props(f)["status"][0] for ref, f in got.items()} == expected
    for ref_id, finding in got.items():
        state, reason = OBJECTIVE[expected[ref_id]]
        assert finding.target.target_id == target_id(ref_id)
        assert (text(finding.target.status.state), text(finding.target.status.reason)) == (state, reason)
    # The estate gives every status something to show.
    assert {"failing", "passing", "not_covered"} <= set(expected.values())
    assert expected["2.2.5"] == "failing"  # CIS 2.5 fails on cde-1


def test_it_has_an_observation_per_recommendation_per_host_linked_to_the_snapshot(estate, bob, api_client_for, settings):
    model = AssessmentResults.model_validate(fetch(api_client_for(bob))[0]["assessment-results"])
    result = model.results[0]
    tests = [o for o in result.observations if [text(m) for m in o.methods] == ["TEST"]]
    controls = {c for f in result.findings for c in ns_props(f).get("cis-recommendation", [])}
    assert len(controls) == 117  # every CIS recommendation maps to PCI DSS 2.2.1
    pairs = {(ns_props(o)["cis-recommendation"][0], o.subjects[0].title) for o in tests}
    assert pairs == {(c, h.hostname) for c in controls for h in estate["hosts"]}
    assert len(tests) == len(pairs)
    resources = {r.uuid: r for r in model.back_matter.resources}
    for snapshot, host in zip(estate["snapshots"], estate["hosts"], strict=True):
        observation = next(o for o in tests if o.subjects[0].title == host.hostname and ns_props(o)["cis-recommendation"]
                           == ["2.5"])
        assert observation.collected == snapshot.collected_at
        assert observation.expires == snapshot.collected_at + datetime.timedelta(hours=settings.PLIMSOLL_STALE_HOURS)
        resource = resources[observation.relevant_evidence[0].href.removeprefix("#")]
        [rlink] = resource.rlinks
        assert rlink.href == f"/api/v1/snapshots/{snapshot.pk}/"
        assert [(h.algorithm, h.value) for h in rlink.hashes] == [("SHA-256", snapshot.sha256)]
    statuses = {(ns_props(o)["cis-recommendation"][0], o.subjects[0].title): ns_props(o)["status"][0] for o in tests}
    assert statuses[("2.5", "cde-1")] == "fail" and statuses[("2.5", "cde-2")] == "pass"
    assert statuses[("5.5", "cde-1")] == "excepted" and statuses[("1.1.2", "cde-1")] == "attested"
    assert statuses[("1.1.1", "cde-1")] == "no_targets"
    assert "dev-1" not in {o.subjects[0].title for o in tests}


def test_it_lists_approved_exceptions_as_deviation_approved_risks(estate, bob, api_client_for):
    model = AssessmentResults.model_validate(fetch(api_client_for(bob))[0]["assessment-results"])
    result = model.results[0]
    exception = estate["exception"]
    [risk] = result.risks
    props = ns_props(risk)
    assert text(risk.status) == "deviation-approved"
    assert risk.description == exception.justification
    assert props["approved-by"] == ["alice"] and props["exception-id"] == [str(exception.pk)]
    assert risk.deadline == exception.expires_at
    assert risk.mitigating_factors[0].description == exception.compensating_controls
    assert [text(e.status_change) for e in risk.risk_log.entries] == ["deviation-requested", "deviation-approved"]
    parties = {p.uuid: p.name for p in model.metadata.parties}
    assert parties[risk.risk_log.entries[1].logged_by[0].party_uuid] == "alice"
    # It backs the requirement the exception changed, and points at the observation it excepted.
    observed = {o.uuid: o for o in result.observations}
    assert [observed[r.observation_uuid].subjects[0].title for r in risk.related_observations] == ["cde-1"]
    backed = [f for f in result.findings if f.related_risks and f.related_risks[0].risk_uuid == risk.uuid]
    assert backed and all("5.5" in ns_props(f)["cis-recommendation"] for f in backed)


def test_it_lists_evidence_as_examine_observations(estate, bob, api_client_for):
    model = AssessmentResults.model_validate(fetch(api_client_for(bob))[0]["assessment-results"])
    result = model.results[0]
    examined = {o.title: o for o in result.observations if [text(m) for m in o.methods] == ["EXAMINE"]}
    note, document = estate["note"], estate["file"]
    assert set(examined) == {f"Evidence #{note.pk}: {note.title}", f"Evidence #{document.pk}: {document.title}"}
    filed = examined[f"Evidence #{document.pk}: {document.title}"]
    assert filed.collected == document.collected_at and filed.expires == document.valid_until
    resource = next(r for r in model.back_matter.resources if f"#{r.uuid}" == filed.relevant_evidence[0].href)
    assert resource.rlinks[0].hashes[0].value == document.sha256
    finding = next(f for f in result.findings if ns_props(f)["requirement"] == ["12.1.1"])
    assert filed.uuid in {r.observation_uuid for r in finding.related_observations}
    assert text(finding.target.status.state) == "satisfied"


def test_two_exports_of_one_state_differ_only_in_the_metadata_timestamps(estate, bob, api_client_for):
    client = api_client_for(bob)
    first, second = fetch(client)[0], fetch(client)[0]
    for body in (first, second):
        body["assessment-results"]["metadata"].pop("last-modified")
    assert first == second
    changed = fetch(client, scope="pci=cde,env!=dev")[0]
    assert changed["assessment-results"]["uuid"] != first["assessment-results"]["uuid"]


def test_every_role_reads_it_and_an_account_without_a_role_does_not(estate, alice, bob, carol, charlie, api_client_for):
    for user in (alice, bob, carol):
        assert api_client_for(user).get(URL, PARAMS).status_code == 200
    assert api_client_for(charlie).get(URL, PARAMS).status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(URL, PARAMS).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"framework": ""}, "framework"),
        ({"framework": "iso-27001"}, "framework"),
        ({"scope": "a=b=c"}, "scope"),
        ({"as_of": "last tuesday"}, "as_of"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "", "period_start": "2026-11-01"}, "period_end"),
        ({"period_start": "2026-11-01", "period_end": "2026-11-02"}, "as_of"),
        ({"as_of": "", "period_start": "2026-11-03", "period_end": "2026-11-02"}, "period_end"),
        ({"as_of": "", "period_start": "soon", "period_end": "2026-11-02"}, "period_start"),
        ({"include_stopped": "maybe"}, "include_stopped"),
    ],
)
def test_it_names_the_bad_parameter(catalogs, bob, api_client_for, params, field):
    for url in (URL, "/api/v1/oscal/poam/"):
        response = api_client_for(bob).get(url, {**PARAMS, **params})
        assert response.status_code == 400, response.content
        assert response.json()["error"] == "invalid" and set(response.json()["detail"]) == {field}


def test_it_exports_a_period_judged_at_its_end(estate, bob, api_client_for):
    start, end = AS_OF - datetime.timedelta(days=5), AS_OF
    body, _ = fetch(api_client_for(bob), as_of="", period_start=start.isoformat(), period_end=end.isoformat())
    result = AssessmentResults.model_validate(body["assessment-results"]).results[0]
    assert (result.start, result.end) == (start, end)


def test_it_answers_an_empty_scope_without_observations(catalogs, bob, api_client_for):
    body, _ = fetch(api_client_for(bob), scope="nobody=here")
    result = AssessmentResults.model_validate(body["assessment-results"]).results[0]
    assert not result.observations and {ns_props(f)["status"][0] for f in result.findings} <= {"needs_evidence",
                                                                                               "not_covered"}
