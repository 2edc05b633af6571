"""valid_evidence: which evidence counts when, what it is attached to, and the reminders before it stops counting."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from compliance.evidence import services, tasks
from compliance.evidence.models import Evidence, EvidenceReminder
from frameworks.models import Requirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def add(carol, catalogs):  # type: ignore[no-untyped-def]
    def make(keys=("cis-docker-1.6.0:5.5",), days=30, **fields):  # type: ignore[no-untyped-def]
        requirements = [Requirement.objects.get(framework__slug=k.split(":")[0], ref_id=k.split(":")[1]) for k in keys]
        now = timezone.now()
        values = {"kind": "note", "title": "Checked by hand", "description": "All fine",
                  "collected_at": now - datetime.timedelta(days=1), "valid_until": now + datetime.timedelta(days=days)}
        values.update(fields)
        return services.upload_evidence(by=carol, requirements=requirements, **values)

    return make


def test_it_counts_from_collection_until_the_end_of_validity(add, web):
    evidence = add(days=10)
    now = timezone.now()
    assert [e.pk for e in services.valid_evidence(now)] == [evidence.pk]
    assert services.valid_evidence(evidence.collected_at - datetime.timedelta(seconds=1)) == []
    assert services.valid_evidence(evidence.valid_until) == []
    with time_machine.travel(evidence.valid_until + datetime.timedelta(seconds=1), tick=False):
        assert services.valid_evidence(timezone.now()) == []
        assert Evidence.objects.get(pk=evidence.pk).validity_label == "expired"


def test_it_does_not_rewrite_a_past_posture_with_evidence_uploaded_later(add):
    now = timezone.now()
    last_month = now - datetime.timedelta(days=30)
    late = add(collected_at=now - datetime.timedelta(days=60), days=10)
    assert late.collected_at < last_month < late.uploaded_at
    assert services.valid_evidence(last_month) == []
    assert not late.is_valid_at(last_month)
    assert [e.pk for e in services.valid_evidence(timezone.now())] == [late.pk]
    assert late.is_valid_at(timezone.now())


def test_it_names_the_cis_controls_it_is_attached_to_directly(add):
    both = add(keys=("cis-docker-1.6.0:5.5", "cis-docker-1.6.0:4.1", "pci-dss-4.0:2.2.1"))
    pci_only = add(keys=("pci-dss-4.0:2.2.1",))
    pci = Requirement.objects.get(framework__slug="pci-dss-4.0", ref_id="2.2.1")
    assert both.controls == {"5.5", "4.1"}
    assert pci_only.controls == set() and pci_only.requirement_ids == {pci.pk}


def test_it_covers_the_hosts_of_its_scope(add, web, build):
    everywhere, prod_only, one_host = add(), add(scope_selector="env=prod"), add(scope_host=build)
    assert everywhere.covers_host(web) and everywhere.covers_host(build)
    assert prod_only.covers_host(web) and not prod_only.covers_host(build)
    assert one_host.covers_host(build) and not one_host.covers_host(web)


def test_it_reads_valid_evidence_in_a_fixed_number_of_queries(add, web, django_assert_num_queries):
    for _ in range(6):
        add(keys=("cis-docker-1.6.0:5.5", "pci-dss-4.0:2.2.1"))
    with django_assert_num_queries(2):
        rows = services.valid_evidence(timezone.now())
        assert len(rows) == 6
        assert all(e.covers_host(web) and e.controls == {"5.5"} for e in rows)


def test_it_reminds_the_uploader_once_per_threshold(add):
    start = timezone.now()
    evidence = add(days=35)
    days_sent = []
    for day in range(36):
        with time_machine.travel(start + datetime.timedelta(days=day, minutes=1), tick=False):
            count = tasks.send_evidence_expiry_reminders.delay().get() + tasks.send_evidence_expiry_reminders.delay().get()
            assert count <= 1
            if count:
                days_sent.append(day)
    assert days_sent == [5, 28, 34]
    assert [m.to for m in mail.outbox] == [["carol@example.test"]] * 3
    assert "stops counting in 30 days" in mail.outbox[0].subject
    assert sorted(EvidenceReminder.objects.filter(subject=evidence).values_list("days_before", flat=True)) == [1, 7, 30]


def test_it_records_a_reminder_to_nobody_when_the_uploader_has_no_email(add, carol):
    carol.email = ""
    carol.save()
    evidence = add(days=3)
    assert services.send_evidence_expiry_reminders() == 1
    assert mail.outbox == []
    assert EvidenceReminder.objects.get(subject=evidence).recipients == []
    assert AuditEvent.objects.get(action="remind", object_id=str(evidence.pk)).changes["days_before"] == [None, 7]
    assert services.send_evidence_expiry_reminders() == 0
