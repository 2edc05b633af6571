"""`manage.py evaluate FILE [--format json|table]`: no database, plain docker inspect accepted, bad input exits 2."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.engine.conftest import SAMPLES


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", *args, stdout=out)
    return out.getvalue()


def test_it_judges_a_file_of_plain_docker_inspect_output() -> None:
    doc = json.loads(run(str(SAMPLES / "podman_inspect_containers.json")))

    assert doc["benchmark"] == "cis-docker-1.6.0"
    privileged = [r for r in doc["results"] if r["control"] == "5.5" and r["status"] == "fail"]
    assert [r["target"]["name"] for r in privileged] == ["pl-privileged"]
    assert {r["target"]["kind"] for r in doc["results"]} == {"container"}
    assert set(doc["results"][0]) >= {"control", "target", "status", "evidence", "message"}


def test_it_judges_one_inspect_object(tmp_path: Path) -> None:
    one = json.loads((SAMPLES / "podman_inspect_containers.json").read_text())[0]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(one))

    doc = json.loads(run(str(path)))

    assert {r["target"]["id"] for r in doc["results"]} == {one["Id"]}


def test_it_prints_a_table_grouped_by_section_with_totals() -> None:
    text = run(str(SAMPLES / "snapshot_web01.json"), "--format", "table")

    assert text.index("[1] Host configuration") < text.index("[5] Container runtime")
    assert "[FAIL] 5.5 " in text
    assert "Section 7: 9 not_applicable" in text
    assert text.rstrip().splitlines()[-1].startswith("Total: ")


def test_it_applies_a_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("max_stopped_containers: 1\n")

    doc = json.loads(run(str(SAMPLES / "snapshot_web01.json"), "--policy", str(policy)))

    assert [r["status"] for r in doc["results"] if r["control"] == "6.2"] == ["fail"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "is not valid JSON"), ("[]", "empty array"), ('[{"Name": "x"}]', "not a docker inspect object"),
     ('{"schema": "plimsoll.snapshot/v9", "agent": {}, "docker": {}}', "unsupported snapshot schema")],
)  # fmt: skip
def test_it_exits_2_on_bad_input(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)

    with pytest.raises(CommandError, match=reason) as info:
        run(str(path))

    assert info.value.returncode == 2


def test_it_exits_2_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read") as info:
        run(str(tmp_path / "absent.json"))

    assert info.value.returncode == 2
