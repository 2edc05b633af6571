"""A small estate for the OSCAL exports: two PCI hosts, an exception in force, a note and a file as evidence."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.evidence.services import upload_evidence
from compliance.exceptions.services import approve_exception, request_exception
from frameworks.models import Requirement
from inventory.models import Host
from tests.posture.conftest import T0, catalogs, judged_host  # noqa: F401 (fixtures used by these tests)

AS_OF = T0 + datetime.timedelta(days=2)


@pytest.fixture
def estate(judged_host: Any, alice: Any, carol: Any) -> dict[str, Any]:  # noqa: F811
    """cde-1 fails 2.5 and 5.5 (web-1, excepted) and has 1.1.2 manual (attested); cde-2 passes; dev-1 is out of scope."""
    cde1 = judged_host("cde-1", {"2.5": ["fail"], "5.5": ["fail@web-1"], "1.1.2": ["manual"], "4.1": ["pass@web-1"]},
                       labels={"pci": "cde"})
    cde2 = judged_host("cde-2", {"2.5": ["pass"], "5.5": ["pass@api-1"], "1.1.2": ["pass"], "4.1": ["fail@api-1"]},
                       labels={"pci": "cde"})
    judged_host("dev-1", {"2.5": ["fail"]}, labels={"env": "dev"})
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        exception = request_exception(
            by=carol, control="5.5", scope_kind="container", scope_container_pattern="web-*",
            justification="web-1 needs the host network until the load balancer moves", risk_rating="medium",
            compensating_controls="Firewall rules limit web-1 to port 443", expires_at=T0 + datetime.timedelta(days=30),
        )
        approve_exception(exception.pk, by=alice)
        cis_112 = Requirement.objects.get(framework__slug="cis-docker-1.6.0", ref_id="1.1.2")
        note = upload_evidence(by=carol, kind="note", title="docker group reviewed", description="ops only",
                               collected_at=T0, valid_until=T0 + datetime.timedelta(days=90), requirements=[cis_112],
                               scope_selector="pci=cde")
        pci_1211 = Requirement.objects.get(framework__slug="pci-dss-4.0.1", ref_id="12.1.1")
        document = upload_evidence(
            by=carol, kind="file", title="information security policy", collected_at=T0,
            valid_until=T0 + datetime.timedelta(days=365), requirements=[pci_1211],
            file=SimpleUploadedFile("policy.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                                    content_type="application/pdf"),
        )
    return {"hosts": [Host.objects.get(pk=cde1.host_id), Host.objects.get(pk=cde2.host_id)],
            "snapshots": [cde1, cde2], "exception": exception, "note": note, "file": document}
