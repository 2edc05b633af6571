"""`manage.py evaluate INSPECT --info FILE --daemon-json FILE`: bare docker inspect output judged with its host's
context (docker info, daemon.json), as a docker-bench user has them; without it, the output says which checks lacked
it. Samples in tests/samples/docker-bench/ are shaped as `docker info --format '{{json .}}'` and daemon.json are."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.engine.conftest import SAMPLES

INSPECT = str(SAMPLES / "podman_inspect_containers.json")
CONTEXT = SAMPLES / "docker-bench"
CONTEXT_CONTROLS = ("5.2", "5.3", "5.22", "5.26")


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", *args, stdout=out)
    return out.getvalue()


def statuses(doc: dict[str, Any], control: str) -> Counter[str]:
    return Counter(r["status"] for r in doc["results"] if r["control"] == control)


def by_name(doc: dict[str, Any], control: str) -> dict[str, str]:
    return {r["target"]["name"]: r["status"] for r in doc["results"] if r["control"] == control}


def test_without_context_the_four_checks_are_errors_and_named_as_lacking_it() -> None:
    doc = json.loads(run(INSPECT))
    for control in ("5.2", "5.3"):
        assert set(statuses(doc, control)) == {"error"}, control
    # Containers that decide on their own (unconfined seccomp, privileged, no-new-privileges set) need no context.
    assert by_name(doc, "5.22")["pl-hostpid"] == "fail" and by_name(doc, "5.22")["pl-web"] == "error"
    assert by_name(doc, "5.26")["pl-hardened"] == "pass" and by_name(doc, "5.26")["pl-web"] == "error"
    assert [item["control"] for item in doc["lacking_context"]] == list(CONTEXT_CONTROLS)
    assert {item["control"]: item["needs"].split()[0] for item in doc["lacking_context"]} == {
        "5.2": "--info", "5.3": "--info", "5.22": "--info", "5.26": "--daemon-json"}

    table = run(INSPECT, "--format", "table")
    note = table[table.index("Checks that lacked the host's context"):]
    for control, option in (("5.2", "--info"), ("5.3", "--info"), ("5.22", "--info"), ("5.26", "--daemon-json")):
        line = next(line for line in note.splitlines() if line.strip().startswith(control + " "))
        assert f"give {option}" in line


def test_with_its_host_context_every_check_is_judged() -> None:
    doc = json.loads(run(INSPECT, "--info", str(CONTEXT / "docker_info.json"),
                         "--daemon-json", str(CONTEXT / "daemon.json")))
    for control in CONTEXT_CONTROLS:
        assert "error" not in statuses(doc, control), control
    assert "lacking_context" not in doc
    # AppArmor is enabled on that host (name=apparmor) and Podman applied no profile: every container fails 5.2.
    assert set(by_name(doc, "5.2").values()) == {"fail"}
    # No SELinux on that host.
    assert set(by_name(doc, "5.3").values()) == {"not_applicable"}
    # The builtin seccomp profile applies to containers without their own; unconfined and privileged ones fail.
    assert by_name(doc, "5.22")["pl-web"] == "pass"
    assert by_name(doc, "5.22")["pl-hostpid"] == "fail" and by_name(doc, "5.22")["pl-privileged"] == "fail"
    # daemon.json sets no-new-privileges: every container gets it.
    assert set(by_name(doc, "5.26").values()) == {"pass"}
    web = next(r for r in doc["results"] if r["control"] == "5.26" and r["target"]["name"] == "pl-web")
    assert web["evidence"]["dockerd.daemon_json.raw.no-new-privileges"] is True
    assert "Checks that lacked" not in run(INSPECT, "--format", "table", "--info", str(CONTEXT / "docker_info.json"),
                                           "--daemon-json", str(CONTEXT / "daemon.json"))


def test_a_host_with_selinux_and_an_unconfined_default_seccomp_profile() -> None:
    doc = json.loads(run(INSPECT, "--info", str(CONTEXT / "docker_info_selinux_unconfined.json")))
    assert set(by_name(doc, "5.2").values()) == {"not_applicable"}  # no AppArmor there
    assert set(by_name(doc, "5.3").values()) == {"fail"}  # SELinux on, no container labelled
    assert set(by_name(doc, "5.22").values()) == {"fail"}
    assert [item["control"] for item in doc["lacking_context"]] == ["5.26"]


def test_daemon_json_decides_no_new_privileges_only_where_it_can() -> None:
    off = json.loads(run(INSPECT, "--daemon-json", str(CONTEXT / "daemon_nnp_off.json")))
    assert by_name(off, "5.26")["pl-web"] == "fail" and by_name(off, "5.26")["pl-hardened"] == "pass"
    # Not set in daemon.json: the command line, not given, might set it. Never a pass; the reason says so.
    unset = json.loads(run(INSPECT, "--daemon-json", str(CONTEXT / "daemon_without_nnp.json")))
    web = next(r for r in unset["results"] if r["control"] == "5.26" and r["target"]["name"] == "pl-web")
    assert web["status"] == "error"
    assert "does not set 'no-new-privileges'" in web["message"] and "command line is unknown" in web["message"]
    assert [item["control"] for item in unset["lacking_context"]] == ["5.2", "5.3", "5.22", "5.26"]


@pytest.mark.parametrize(
    ("option", "name", "reason"),
    [
        ("--info", "docker_info_unreachable.json", "docker info could not reach the daemon"),
        ("--info", "daemon.json", "not docker info output"),
        ("--info", "daemon_not_an_object.json", "docker info output is a JSON object, not list"),
        ("--daemon-json", "daemon_malformed.json", "is not valid JSON"),
        ("--daemon-json", "daemon_not_an_object.json", "daemon.json holds a JSON object of dockerd options, not list"),
        ("--daemon-json", "absent.json", "cannot read the daemon.json file"),
    ],
)
def test_a_bad_context_file_is_named_with_the_reason_and_exits_2(option: str, name: str, reason: str) -> None:
    with pytest.raises(CommandError, match=reason) as info:
        run(INSPECT, option, str(CONTEXT / name))
    assert info.value.returncode == 2
    assert name in str(info.value)


def test_context_files_apply_to_inspect_output_only() -> None:
    with pytest.raises(CommandError, match="apply to docker inspect output only") as info:
        run(str(SAMPLES / "snapshot_web01.json"), "--info", str(CONTEXT / "docker_info.json"))
    assert info.value.returncode == 2


def test_the_command_line_exits_non_zero_with_the_reason_on_stderr(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "manage.py", "evaluate", INSPECT, "--daemon-json", str(CONTEXT / "daemon_malformed.json")],
        cwd=SAMPLES.parent.parent, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PLIMSOLL_VAR_DIR": str(tmp_path)},
    )
    assert process.returncode == 2
    assert "daemon_malformed.json is not valid JSON" in process.stderr
    assert process.stdout == ""
