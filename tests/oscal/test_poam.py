"""GET /api/v1/oscal/poam/: a plan of action from the failing requirements and the exceptions in force."""

from __future__ import annotations

import json

import pytest
from trestle.oscal.poam import PlanOfActionAndMilestones

from tests.oscal.conftest import AS_OF
from tests.oscal.test_assessment_results import PARAMS, ns_props, text

pytestmark = pytest.mark.django_db


def test_it_plans_an_item_per_failing_requirement_and_per_exception(estate, bob, api_client_for):
    client = api_client_for(bob)
    response = client.get("/api/v1/oscal/poam/", PARAMS)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'-{AS_OF:%Y-%m-%d}-poam.json"')
    model = PlanOfActionAndMilestones.model_validate(json.loads(response.content)["plan-of-action-and-milestones"])
    posture = client.get("/api/v1/posture/pci-dss-4.0.1/", {"scope": "pci=cde", "as_of": AS_OF.isoformat()}).json()
    # A section that fails only through the requirements under it is planned through theirs.
    failing = {r["ref_id"] for r in posture["requirements"] if r["status"] == "failing" and r["failing"]}
    assert {"2.2.5", "2.2.1"} <= failing and "2.2" not in failing
    items = {ns_props(i).get("requirement", [None])[0]: i for i in model.poam_items}
    exception = estate["exception"]
    assert set(items) == failing | {None}
    [exception_item] = [i for i in model.poam_items if ns_props(i).get("exception-id") == [str(exception.pk)]]
    risks = {r.uuid: r for r in model.risks}
    [approved] = [risks[r.risk_uuid] for r in exception_item.related_risks]
    assert text(approved.status) == "deviation-approved" and approved.deadline == exception.expires_at
    # CIS 2.5 fails on cde-1 (dev-1 is out of scope): an open risk, with the failing observation.
    item = items["2.2.5"]
    findings = {f.uuid: f for f in model.findings}
    assert [text(findings[f.finding_uuid].target.status.state) for f in item.related_findings] == ["not-satisfied"]
    [open_risk] = [risks[r.risk_uuid] for r in item.related_risks]
    assert text(open_risk.status) == "open" and ns_props(open_risk)["cis-recommendation"] == ["2.5"]
    observations = {o.uuid: o for o in model.observations}
    assert [observations[o.observation_uuid].subjects[0].title for o in open_risk.related_observations] == ["cde-1"]
    # 4.1 fails on cde-2 only; 5.5 is excepted, so no open risk names it.
    open_controls = {ns_props(r)["cis-recommendation"][0] for r in model.risks if text(r.status) == "open"}
    assert open_controls == {"2.5", "4.1"}
