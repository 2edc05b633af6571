"""A limited auditor's limits hold on the pages too: other frameworks answer 403, and every posture is within the
account's label scope."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from compliance.administration.models import AccountLimit


@pytest.fixture
def limited(db, judged_host) -> User:
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"})
    judged_host("office-1", {"2.5": ["fail"], "2.1": ["fail"]}, labels={"env": "office"})
    user = User.objects.create_user("lim", "lim@example.test", "pw-lim")
    user.groups.add(Group.objects.get(name="auditor"))
    AccountLimit.objects.create(user=user, frameworks=["cis-docker-1.6.0"], scope="pci=cde",
                                expires_at=timezone.now() + datetime.timedelta(days=5))
    return user


def test_it_refuses_other_frameworks_on_the_pages(client, limited):
    client.force_login(limited)
    assert client.get("/posture/pci-dss-4.0/").status_code == 403
    assert client.get("/posture/pci-dss-4.0/2.2.5/").status_code == 403
    assert client.get("/posture/cis-docker-1.6.0/").status_code == 200


def test_it_keeps_every_posture_page_within_the_scope(client, limited):
    client.force_login(limited)
    page = client.get("/posture/cis-docker-1.6.0/").context
    assert page["summary"].hosts == 1
    assert str(page["posture"].selector) == "pci=cde"
    overview = client.get("/").context["overview"]
    assert [c.framework.slug for c in overview.cards] == ["cis-docker-1.6.0"]
    assert overview.cards[0].posture.summary.hosts == 1
    index = client.get("/posture/").context["rows"]
    assert [r["framework"].slug for r in index] == ["cis-docker-1.6.0"]


# The registers, the audit log and the reports (docs/dashboard.md, "Limited auditors").

NOW = timezone.now()
LATER = NOW + datetime.timedelta(days=30)


def _exception(carol, alice, control: str, **scope) -> int:
    from compliance.exceptions.services import approve_exception, request_exception

    exception = request_exception(by=carol, control=control, justification="x", risk_rating="low", expires_at=LATER,
                                  **scope)
    approve_exception(exception.pk, by=alice)
    return exception.pk


def _evidence(carol, requirements: list[tuple[str, str]], **scope) -> int:
    from compliance.evidence.services import upload_evidence
    from frameworks.models import Requirement

    rows = [Requirement.objects.get(framework__slug=s, framework__is_current=True, ref_id=r) for s, r in requirements]
    return upload_evidence(by=carol, kind="note", title="reviewed", description="ok", requirements=rows,
                           collected_at=NOW - datetime.timedelta(days=1), valid_until=LATER, **scope).pk


def _report(carol, **fields):
    from django.core.files.base import ContentFile

    from compliance.reports.models import Report

    report = Report(requested_by=carol, status="done", sha256="0" * 64, **fields)
    report.file.save("r.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    report.save()
    return report


@pytest.fixture
def registers(limited_auditor, judged_host, alice, carol):
    """An auditor limited to GDPR over pci=cde, and exceptions, evidence and reports in and out of that."""
    from inventory.models import Host

    judged_host("cde-1", {"2.5": ["fail"], "6.1": ["manual"]}, labels={"pci": "cde"})
    judged_host("office-1", {"2.5": ["fail"]}, labels={"env": "office"})
    cde, office = Host.objects.get(hostname="cde-1"), Host.objects.get(hostname="office-1")
    seen, hidden = {}, {}
    # 2.5 maps to GDPR; 6.1 maps to no GDPR article.
    seen["all hosts"] = _exception(carol, alice, "2.5", scope_kind="all")
    seen["the cde host"] = _exception(carol, alice, "2.5", scope_kind="host", scope_host=cde)
    seen["a selector taking in a cde host"] = _exception(carol, alice, "2.5", scope_kind="selector", scope_selector="pci=cde")
    seen["containers (on every host)"] = _exception(carol, alice, "2.5", scope_kind="container",
                                                    scope_container_pattern="web-*")
    hidden["an office host"] = _exception(carol, alice, "2.5", scope_kind="host", scope_host=office)
    hidden["a selector of office hosts"] = _exception(carol, alice, "2.5", scope_kind="selector",
                                                      scope_selector="env=office")
    hidden["a recommendation outside GDPR"] = _exception(carol, alice, "6.1", scope_kind="all")
    evidence_seen = {
        "a GDPR article": _evidence(carol, [("gdpr", "32")]),
        "a PCI requirement mapped from 2.5": _evidence(carol, [("pci-dss-4.0", "2.2.5")], scope_host=cde),
        "2.5 for pci=cde": _evidence(carol, [("cis-docker-1.6.0", "2.5")], scope_selector="pci=cde"),
    }
    evidence_hidden = {
        "a GDPR article for an office host": _evidence(carol, [("gdpr", "32")], scope_host=office),
        "6.1 only": _evidence(carol, [("cis-docker-1.6.0", "6.1")]),
        "2.5 for env=office": _evidence(carol, [("cis-docker-1.6.0", "2.5")], scope_selector="env=office"),
    }
    reports_seen = {
        "GDPR over pci=cde": _report(carol, kind="framework", framework_slug="gdpr", scope="pci=cde"),
        "GDPR over a part of pci=cde": _report(carol, kind="framework", framework_slug="gdpr", scope="env=prod,pci=cde"),
    }
    reports_hidden = {
        "GDPR over every host": _report(carol, kind="framework", framework_slug="gdpr", scope=""),
        "PCI over pci=cde": _report(carol, kind="framework", framework_slug="pci-dss-4.0", scope="pci=cde"),
        "hardening of the cde host (CIS not allowed)": _report(carol, kind="hardening", framework_slug="cis-docker-1.6.0",
                                                               host=cde),
        "the exceptions register": _report(carol, kind="exceptions"),
    }
    user = limited_auditor("gina", expires_in=10, frameworks=["gdpr"], scope="pci=cde")
    return {"user": user, "cde": cde, "office": office, "exceptions": (seen, hidden),
            "evidence": (evidence_seen, evidence_hidden), "reports": (reports_seen, reports_hidden)}


def _csv_ids(response) -> set[int]:
    import csv
    import io

    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(text))}


def test_the_exceptions_register_shows_only_the_accounts_frameworks_and_hosts(client, registers):
    seen, hidden = registers["exceptions"]
    client.force_login(registers["user"])
    listed = {e.pk for e in client.get("/exceptions/").context["exceptions"]}
    assert listed == set(seen.values()), {k for k, v in {**seen, **hidden}.items() if (v in listed) != (k in seen)}
    assert _csv_ids(client.get("/exceptions/?export=csv")) == set(seen.values())
    for pk in seen.values():
        assert client.get(f"/exceptions/{pk}/").status_code == 200
    for pk in hidden.values():
        assert client.get(f"/exceptions/{pk}/").status_code == 404


def test_an_unlimited_or_only_time_limited_auditor_sees_every_exception(client, registers, bob, limited_auditor):
    seen, hidden = registers["exceptions"]
    for user in (bob, limited_auditor("tim", expires_in=3)):
        client.force_login(user)
        assert {e.pk for e in client.get("/exceptions/").context["exceptions"]} == {*seen.values(), *hidden.values()}


def test_the_evidence_register_shows_only_the_accounts_frameworks_and_hosts(client, registers):
    seen, hidden = registers["evidence"]
    client.force_login(registers["user"])
    listed = {e.pk for e in client.get("/evidence/").context["evidence_list"]}
    assert listed == set(seen.values()), {k for k, v in {**seen, **hidden}.items() if (v in listed) != (k in seen)}
    assert _csv_ids(client.get("/evidence/?export=csv")) == set(seen.values())
    for pk in hidden.values():
        assert client.get(f"/evidence/{pk}/").status_code == 404
        assert client.get(f"/evidence/{pk}/download/").status_code == 404
    assert client.get(f"/evidence/{seen['a GDPR article']}/").status_code == 200


def test_the_reports_show_only_the_accounts_frameworks_and_scope(client, registers):
    seen, hidden = registers["reports"]
    client.force_login(registers["user"])
    listed = {r.pk for r in client.get("/reports/").context["page"]}
    assert listed == {r.pk for r in seen.values()}, {k for k, r in {**seen, **hidden}.items()
                                                     if (r.pk in listed) != (k in seen)}
    api = client.get("/api/v1/reports/").json()
    assert {r["id"] for r in api["results"]} == listed
    for report in seen.values():
        assert client.get(f"/reports/{report.pk}/").status_code == 200
        assert client.get(f"/reports/{report.pk}/download/").status_code == 200
        assert client.get(f"/api/v1/reports/{report.pk}/download/").status_code == 200
    for report in hidden.values():
        assert client.get(f"/reports/{report.pk}/").status_code == 404
        assert client.get(f"/reports/{report.pk}/download/").status_code == 404
        assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 404
        assert client.get(f"/api/v1/reports/{report.pk}/download/").status_code == 404


def test_a_hardening_report_is_read_for_a_host_of_the_scope_when_cis_is_allowed(client, registers, carol,
                                                                                  limited_auditor):
    inside = _report(carol, kind="hardening", framework_slug="cis-docker-1.6.0", host=registers["cde"])
    outside = _report(carol, kind="hardening", framework_slug="cis-docker-1.6.0", host=registers["office"])
    client.force_login(limited_auditor("hal", frameworks=["cis-docker-1.6.0"], scope="pci=cde"))
    assert client.get(f"/reports/{inside.pk}/download/").status_code == 200
    assert client.get(f"/reports/{outside.pk}/download/").status_code == 404


def test_a_limited_account_cannot_request_a_report_outside_its_limits(registers, carol):
    from compliance.administration.models import AccountLimit
    from compliance.reports import services
    from compliance.reports.models import Report

    # Limits are for auditors (who request nothing); the report service holds them whoever the account is.
    AccountLimit.objects.create(user=carol, frameworks=["gdpr"], scope="pci=cde")
    before = Report.objects.count()
    for params in ({"kind": "framework", "framework": "gdpr"}, {"kind": "framework", "framework": "pci-dss-4.0",
                                                                  "scope": "pci=cde"},
                   {"kind": "hardening", "host": registers["cde"].pk}):
        with pytest.raises(services.NotPermitted):
            services.request_report(by=carol, **params)
    assert Report.objects.count() == before
    assert services.request_report(by=carol, kind="framework", framework="gdpr", scope="pci=cde").scope == "pci=cde"


def test_the_audit_log_shows_only_events_about_what_the_account_reads(client, registers):
    import csv
    import io

    from audit.models import AuditEvent

    seen, hidden = registers["exceptions"]
    evidence_seen, evidence_hidden = registers["evidence"]
    client.force_login(registers["user"])
    events = list(client.get("/audit/").context["events"])
    about = {(e.content_type.model, e.object_id) for e in events if e.content_type}
    assert {("riskacceptance", str(pk)) for pk in seen.values()} <= about
    assert {("evidence", str(pk)) for pk in evidence_seen.values()} <= about
    assert not {("riskacceptance", str(pk)) for pk in hidden.values()} & about
    assert not {("evidence", str(pk)) for pk in evidence_hidden.values()} & about
    assert {model for model, _ in about} <= {"riskacceptance", "evidence", "report", "host", "snapshot"}
    assert all(e.content_type for e in events)  # no event without an object (logins, settings) either
    assert AuditEvent.objects.filter(content_type__model="user").exists()  # account events exist, and are not shown
    for path in ("/audit/?export=csv", "/audit/export/"):
        response = client.get(path)
        text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        assert {int(row["id"]) for row in csv.DictReader(io.StringIO(text))} == {e.pk for e in events}, path


def test_the_host_pages_show_only_the_hosts_of_the_scope(client, limited, bob):
    from inventory.models import Host, Snapshot

    cde, office = Host.objects.get(hostname="cde-1"), Host.objects.get(hostname="office-1")
    office_snapshot = Snapshot.objects.filter(host=office).first()
    client.force_login(limited)
    assert [h.hostname for h, _, _ in client.get("/hosts/").context["rows"]] == ["cde-1"]
    assert client.get(f"/hosts/{cde.pk}/").status_code == 200
    assert client.get(f"/hosts/{office.pk}/").status_code == 404
    assert client.get(f"/snapshots/{office_snapshot.pk}/").status_code == 404
    assert {row.host.hostname for row in client.get("/controls/2.5/").context["rows"]} == {"cde-1"}
    assert client.get("/controls/2.5/").context["hosts"] == 1
    for path in ("/containers/", "/images/", "/api/v1/estate/containers/"):
        client.force_login(limited)
        assert _hostnames(client, path) == {"cde-1"}, path
        client.force_login(bob)
        assert _hostnames(client, path) == {"cde-1", "office-1"}, path


def _hostnames(client, path: str) -> set[str]:
    response = client.get(path)
    if path.startswith("/api/"):
        return {r["hostname"] for r in response.json()["results"]}
    return {row.host.hostname for row, _, _ in response.context["rows"]}


# The API holds the same limits as the pages.

def test_the_api_registers_hold_the_accounts_limits(client, registers):
    client.force_login(registers["user"])
    for path, (seen, hidden) in (("/api/v1/exceptions/", registers["exceptions"]),
                                 ("/api/v1/evidence/", registers["evidence"])):
        listed = {row["id"] for row in client.get(path + "?page_size=100").json()["results"]}
        assert listed == set(seen.values()), path
        for pk in hidden.values():
            assert client.get(f"{path}{pk}/").status_code == 404, (path, pk)


def test_the_inventory_api_holds_the_accounts_label_scope(client, registers, bob):
    cde, office = registers["cde"], registers["office"]
    client.force_login(registers["user"])
    assert [h["id"] for h in client.get("/api/v1/hosts/").json()["results"]] == [cde.pk]
    assert client.get(f"/api/v1/hosts/{office.pk}/").status_code == 404
    snapshots = client.get("/api/v1/snapshots/").json()["results"]
    assert snapshots and {s["host"] for s in snapshots} == {cde.pk}
    assert client.get(f"/api/v1/snapshots/{office.last_snapshot_id}/").status_code == 404
    client.force_login(bob)
    assert {h["id"] for h in client.get("/api/v1/hosts/").json()["results"]} == {cde.pk, office.pk}
