"""docker-bench-security `-l` JSON logs: imported for a host (API, page, command), and shown beside Plimsoll's verdicts
check by check and target by target, with the reason from docs/cis-docker.md wherever they differ.

bench_web.log.json is a hand-made log in docker-bench 1.6.0's format (functions/output_lib.sh) for the web sample host,
whose running containers are pl-hardened, pl-hostnet, pl-privileged, pl-web, pl-health and pl-hostpid.
"""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from audit.models import AuditEvent
from compliance.imports.bench import compare, documented_reasons
from compliance.imports.models import BenchRun, ImportedFile
from compliance.imports.services import import_evidence
from tests.hosts.conftest import push  # noqa: F401
from tests.imports.conftest import DOCKER_BENCH
from tests.posture.conftest import catalogs  # noqa: F401

pytestmark = pytest.mark.django_db
LOG = DOCKER_BENCH / "bench_web.log.json"


def upload(client: Any, path: Any, **fields: Any) -> Any:
    file = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/json")
    return client.post("/api/v1/imports/docker-bench/", {"file": file, **fields}, format="multipart")


@pytest.fixture
def web(push: Any) -> Any:  # noqa: F811
    return push("web")


def test_it_stores_the_log_for_its_host_with_its_sha256(web, carol, api_client_for):
    response = upload(api_client_for(carol), LOG, host="web")
    assert response.status_code == 201, response.content
    body = response.json()
    stored = ImportedFile.objects.get(pk=body["id"])
    assert stored.kind == "docker-bench" and stored.sha256 == hashlib.sha256(LOG.read_bytes()).hexdigest()
    run = BenchRun.objects.get(source=stored)
    assert (run.host_id, run.version, run.score, run.checks) == (web.host_id, "1.6.0", -9, 22)
    assert run.started_at.isoformat() == "2025-12-01T08:00:00+00:00"
    assert [r["id"] for r in run.results][:4] == ["1.1.1", "1.1.2", "1.1.3", "1.1.18"]
    assert body["docker_bench"]["hostname"] == "web"
    assert AuditEvent.objects.filter(object_id=str(stored.pk)).exists()
    # by id too, and the same file again answers the first import
    assert upload(api_client_for(carol), LOG, host=str(web.host_id)).status_code == 200


@pytest.mark.parametrize(("name", "host", "field", "reason"), [
    ("malformed_result.log.json", "web", "tests[1].results[0].result", "PASS, WARN, INFO, NOTE"),
    ("malformed_no_version.log.json", "web", "dockerbenchsecurity", "version"),
    ("malformed_items.log.json", "web", "tests[2].results[0].items[1]", "string"),
    ("malformed_start.log.json", "web", "start", "Unix time"),
    ("malformed_interrupted.log.json", "web", "file", "not valid JSON"),
    ("bench_web.log.json", "", "host", "required"),
    ("bench_web.log.json", "nowhere", "host", "no host 'nowhere'"),
])
def test_a_malformed_log_or_host_is_a_400_naming_the_field_and_nothing_is_stored(web, carol, api_client_for, name,
                                                                                  host, field, reason):
    response = upload(api_client_for(carol), DOCKER_BENCH / name, host=host)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]["field"] == field
    assert reason in response.json()["detail"]["reason"]
    assert not ImportedFile.objects.exists() and not BenchRun.objects.exists()


def test_an_auditor_cannot_import(web, bob, api_client_for):
    assert upload(api_client_for(bob), LOG, host="web").status_code == 403
    assert not BenchRun.objects.exists()


def rows(run: BenchRun) -> dict[tuple[str, str], Any]:
    return {(r.control, r.target): r for r in compare(run).rows}


def test_the_comparison_puts_both_verdicts_per_check_and_target(web, carol):
    run = import_evidence("docker-bench", LOG.read_bytes(), by=carol, host="web").file.bench
    found = rows(run)
    # Agreements: the same verdict class on both sides.
    assert found[("1.1.18", "web")].agree and found[("2.15", "web")].agree and found[("4.5", "web")].agree
    assert found[("4.1", "pl-web")].bench == "WARN" and found[("4.1", "pl-web")].agree
    assert found[("4.1", "pl-hardened")].bench == "PASS" and found[("4.1", "pl-hardened")].agree  # warned about others
    assert found[("4.6", "localhost/local/busybox:1")].bench == "WARN"  # "[busybox:1]" as docker-bench prints tags
    assert found[("4.6", "localhost/local/busybox:1")].agree
    assert found[("4.4", "web")].agree  # NOTE and manual
    assert found[("5.5", "pl-privileged")].agree and found[("5.5", "pl-web")].agree
    # Differences, each with the reason docs/cis-docker.md records.
    created = found[("4.1", "pl-restart")]  # a created container docker-bench does not list
    assert (created.bench, created.plimsoll, created.agree) == ("PASS", "fail", False)
    assert any("for every container" in r for r in created.reasons)
    apparmor = found[("5.2", "pl-web")]
    assert (apparmor.bench, apparmor.plimsoll, apparmor.agree) == ("WARN", "not_applicable", False)
    assert any("no AppArmor" in r for r in apparmor.reasons)
    assert any("substrings" in r for r in found[("1.1.2", "web")].reasons)
    assert any("leaves it as a note" in r for r in found[("2.1", "web")].reasons)
    # No decision recorded: the reason says so and quotes Plimsoll's rule.
    icc = found[("2.2", "web")]
    assert (icc.bench, icc.plimsoll) == ("WARN", "error")
    assert icc.reasons == ["no decision recorded for 2.2 in docs/cis-docker.md; Plimsoll's rule: pass when --icc=false "
                           "or daemon.json icc is false"]
    # A check Plimsoll does not have, and one docker-bench did not run.
    assert not found[("8.1.1", "")].agree and "not a CIS Docker Benchmark" in found[("8.1.1", "")].reasons[0]
    assert found[("5.4", "pl-web")].bench == "" and "has no result" in found[("5.4", "pl-web")].reasons[0]


def test_the_reasons_are_read_from_the_decisions_table():
    assert any("substrings" in r for r in documented_reasons("1.1.2"))
    assert any("path as a substring" in r for r in documented_reasons("1.1.9"))  # the 1.1.3-1.1.18 range
    assert any("bitmasks" in r for r in documented_reasons("3.12"))  # 3.x
    assert documented_reasons("1.1.1") == [] and documented_reasons("1.1") == []


def test_the_page_shows_the_run_beside_plimsoll_for_every_role(web, carol, bob):
    stored = import_evidence("docker-bench", LOG.read_bytes(), by=carol, host="web").file
    client = Client()
    client.force_login(bob)
    page = client.get(f"/imports/docker-bench/{stored.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert stored.sha256 in html and 'data-control="5.2" data-agree="no"' in html
    assert "no AppArmor" in html
    only = client.get(f"/imports/docker-bench/host/{web.host_id}/?only=differ").content.decode()
    assert 'data-agree="yes"' not in only and 'data-agree="no"' in only
    assert client.get("/imports/docker-bench/host/999999/").status_code == 404
    api = client.get(f"/api/v1/imports/docker-bench/{stored.pk}/comparison/").json()
    assert api["hostname"] == "web" and api["snapshot"]["sha256"] == web.sha256
    assert api["differ"] == sum(1 for r in api["rows"] if not r["agree"]) > 0


def test_the_upload_page_takes_the_host(web, carol):
    client = Client()
    client.force_login(carol)
    file = SimpleUploadedFile(LOG.name, LOG.read_bytes(), content_type="application/json")
    missing = client.post("/imports/", {"kind": "docker-bench", "file": file})
    assert missing.status_code == 400 and 'data-field="host"' in missing.content.decode()
    file = SimpleUploadedFile(LOG.name, LOG.read_bytes(), content_type="application/json")
    assert client.post("/imports/", {"kind": "docker-bench", "file": file, "host": "web"}).status_code == 302
    listed = client.get("/imports/").content.decode()
    assert f"/imports/docker-bench/{BenchRun.objects.get().source_id}/" in listed


def test_the_command_imports_a_log_and_names_a_bad_one(web, carol):
    out = StringIO()
    call_command("import_evidence", "docker-bench", str(LOG), "--user", "carol", "--host", "web", stdout=out)
    assert '"created": true' in out.getvalue() and BenchRun.objects.get().host_id == web.host_id
    with pytest.raises(CommandError, match=r"tests\[1\].results\[0\].result") as info:
        call_command("import_evidence", "docker-bench", str(DOCKER_BENCH / "malformed_result.log.json"), "--user",
                     "carol", "--host", "web", stdout=StringIO())
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="host: required"):
        call_command("import_evidence", "docker-bench", str(LOG), "--user", "carol", stdout=StringIO())
