"""manage.py export_oscal: the same documents as the API, to a file or stdout; bad input exits non-zero."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.poam import PlanOfActionAndMilestones

from tests.oscal.conftest import AS_OF

pytestmark = pytest.mark.django_db


def test_it_writes_the_assessment_results_and_the_poam(estate, tmp_path, bob, api_client_for):
    target = tmp_path / "ar.json"
    call_command("export_oscal", "--framework", "pci-dss-4.0.1", "--scope", "pci=cde", "--as-of", AS_OF.isoformat(),
                 "-o", str(target), stderr=io.StringIO())
    written = json.loads(target.read_bytes())
    AssessmentResults.model_validate(written["assessment-results"])
    api = json.loads(api_client_for(bob).get(
        "/api/v1/oscal/assessment-results/", {"framework": "pci-dss-4.0.1", "scope": "pci=cde", "as_of": AS_OF.isoformat()}
    ).content)
    for body in (written, api):
        body["assessment-results"]["metadata"].pop("last-modified")
    assert written == api

    out = io.StringIO()
    call_command("export_oscal", "--framework", "pci-dss-4.0.1", "--scope", "pci=cde", "--as-of", AS_OF.isoformat(),
                 "--poam", stdout=out)
    PlanOfActionAndMilestones.model_validate(json.loads(out.getvalue())["plan-of-action-and-milestones"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "nope"], "--framework: no loaded framework 'nope'"),
        (["--framework", "pci-dss-4.0.1", "--scope", "a=b=c"], "--scope:"),
        (["--framework", "pci-dss-4.0.1", "--as-of", "yesterday"], "--as-of:"),
        (["--framework", "pci-dss-4.0.1", "--period-start", "2026-11-01"], "--period-end: a period has a start and an end"),
    ],
)
def test_it_names_the_bad_option(catalogs, tmp_path, args, message):
    target = tmp_path / "out.json"
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("export_oscal", *args, "-o", str(target))
    assert not target.exists()


def test_it_exits_non_zero_from_the_command_line(catalogs, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "export_oscal", "--framework", "nope"]).execute()
    assert exited.value.code == 1
    assert "--framework: no loaded framework 'nope'" in capsys.readouterr().err
