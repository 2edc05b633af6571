"""Host hardening and the registers: every target with its verdict and remediation; every exception and evidence of
the period with its history."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from compliance.exceptions import services as exception_services
from compliance.models import Result
from compliance.posture.services import compute_posture
from inventory.models import Host
from tests.reports.conftest import attachments, pdf_of, pdf_text

pytestmark = pytest.mark.django_db


def test_hardening_of_one_host_lists_every_target_with_remediation(estate, carol, make_report):
    host = Host.objects.get(hostname="web-01")
    report = make_report(carol, kind="hardening", host=str(host.pk))
    data = pdf_of(report)
    text = " ".join(pdf_text(data).split())
    assert "Scope: host web-01" in text and "What it asks:" in text and "How it is checked (automated):" in text
    assert "fail when HostConfig.Privileged is true" in text and "Remediation:" in text
    rows = list(csv.DictReader(io.StringIO(attachments(data)["findings.csv"].decode())))
    stored = Result.objects.filter(snapshot=estate["web"], is_current=True)
    assert sorted(int(r["result_id"]) for r in rows) == sorted(stored.values_list("pk", flat=True))
    assert {r["host"] for r in rows} == {"web-01"}
    assert {r["posture_status"] for r in rows} >= {"fail", "pass", "manual", "error"}
    assert "posture.json" not in attachments(data)


def test_hardening_of_a_scope_states_the_cis_posture(estate, carol, make_report):
    report = make_report(carol, kind="hardening", scope="pci=cde")
    data = pdf_of(report)
    posture = compute_posture("cis-docker-1.6.0", "pci=cde", report.as_of)
    text = pdf_text(data)
    import re
    statuses = dict(re.findall(r"Status of (\S+): (\w+)", text))
    assert statuses == {r.ref_id: r.status for r in posture.requirements}
    rows = list(csv.DictReader(io.StringIO(attachments(data)["findings.csv"].decode())))
    assert {r["host"] for r in rows} == {"web-01", "db-01"}


def test_the_exceptions_register_has_every_decision_of_the_period_with_its_history(alice, carol, catalogs, make_report):
    keep = exception_services.request_exception(
        by=carol, control="5.5", scope_kind="all", justification="Payment proxy", compensating_controls="Firewall",
        risk_rating="medium", expires_at=timezone.now() + datetime.timedelta(days=60))
    exception_services.approve_exception(keep.pk, by=alice)
    refused = exception_services.request_exception(
        by=carol, control="2.5", scope_kind="all", justification="Not needed", risk_rating="low",
        expires_at=timezone.now() + datetime.timedelta(days=60))
    exception_services.reject_exception(refused.pk, by=alice, note="Fix it instead")
    pending = exception_services.request_exception(
        by=carol, control="4.1", scope_kind="all", justification="Still asking", risk_rating="low",
        expires_at=timezone.now() + datetime.timedelta(days=60))
    today = timezone.now().date()
    report = make_report(carol, kind="exceptions", period_start=(today - datetime.timedelta(days=7)).isoformat(),
                         period_end=today.isoformat())
    data = pdf_of(report)
    text = " ".join(pdf_text(data).split())
    assert f"Exception #{keep.pk}" in text and f"Exception #{refused.pk}" in text and f"Exception #{pending.pk}" not in text
    assert "Payment proxy" in text and "Firewall" in text and "Fix it instead" in text
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(attachments(data)["exceptions.csv"].decode()))}
    assert set(rows) == {keep.pk, refused.pk}
    assert rows[keep.pk]["approved_by"] == "alice" and rows[keep.pk]["requested_by"] == "carol"
    assert rows[keep.pk]["status_at_period_end"] == "approved" and rows[refused.pk]["status_at_period_end"] == "rejected"
    assert "carol create" in rows[keep.pk]["history"] and "alice approve" in rows[keep.pk]["history"]


def test_the_evidence_register_lists_evidence_with_its_sha256(carol, catalogs, make_report):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from compliance.evidence import services as evidence_services
    from frameworks.models import Requirement

    evidence = evidence_services.upload_evidence(
        by=carol, kind="file", title="Daemon configuration review", collected_at=timezone.now() - datetime.timedelta(days=2),
        valid_until=timezone.now() + datetime.timedelta(days=90),
        requirements=[Requirement.objects.get(framework__slug="pci-dss-4.0", ref_id="2.2.1")],
        file=SimpleUploadedFile("review.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", "application/pdf"),
    )
    today = timezone.now().date()
    report = make_report(carol, kind="evidence", period_start=(today - datetime.timedelta(days=7)).isoformat(),
                         period_end=today.isoformat())
    data = pdf_of(report)
    text = "".join(pdf_text(data).split())
    assert "Daemonconfigurationreview" in text and evidence.sha256 in text and "pci-dss-4.0:2.2.1" in text
    import json
    assert json.loads(attachments(data)["manifest.json"])["evidence"][0]["sha256"] == evidence.sha256
