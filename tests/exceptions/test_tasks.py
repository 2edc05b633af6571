"""Daily tasks: expiry reminders at 30, 7 and 1 days (each sent once), and the stale flag after 90 days unmatched."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from compliance.exceptions import services, tasks
from compliance.exceptions.models import ExpiryReminder, RiskAcceptance
from compliance.exceptions.services import mark_matched

pytestmark = pytest.mark.django_db


def test_it_sends_each_reminder_once_at_30_7_and_1_days(approved):
    start = timezone.now()
    exception = approved(expires_at=start + datetime.timedelta(days=45))
    sent_on = {}
    for day in range(46):
        with time_machine.travel(start + datetime.timedelta(days=day, minutes=1), tick=False):
            before = len(mail.outbox)
            tasks.send_expiry_reminders.delay()
            tasks.send_expiry_reminders.delay()  # a second run the same day sends nothing
            if len(mail.outbox) > before:
                assert len(mail.outbox) == before + 1
                sent_on[day] = mail.outbox[-1]
    assert sorted(sent_on) == [15, 38, 44]
    assert "expires in 30 days" in sent_on[15].subject and "expires in 1 day" in sent_on[44].subject
    assert sorted(sent_on[15].to) == ["alice@example.test", "carol@example.test"]
    assert sorted(ExpiryReminder.objects.filter(subject=exception).values_list("days_before", flat=True)) == [1, 7, 30]
    assert AuditEvent.objects.filter(action="remind", object_id=str(exception.pk)).count() == 3


def test_it_sends_only_the_nearest_reminder_for_a_short_exception(approved):
    approved(expires_at=timezone.now() + datetime.timedelta(days=5))
    assert tasks.send_expiry_reminders.delay().get() == 1
    assert len(mail.outbox) == 1 and "7 days" in mail.outbox[0].subject
    assert tasks.send_expiry_reminders.delay().get() == 0


def test_it_records_nothing_when_the_email_fails_so_a_retry_sends_it(approved, monkeypatch):
    exception = approved(expires_at=timezone.now() + datetime.timedelta(days=5))

    def smtp_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("common.reminders.send_mail", smtp_down)
    with pytest.raises(OSError):
        services.send_expiry_reminders()
    assert not ExpiryReminder.objects.exists() and not AuditEvent.objects.filter(action="remind").exists()
    monkeypatch.undo()
    assert services.send_expiry_reminders() == 1
    reminder = ExpiryReminder.objects.get()
    assert reminder.subject == exception and reminder.recipients == ["alice@example.test", "carol@example.test"]
    event = AuditEvent.objects.get(action="remind")
    assert event.changes == {"days_before": [None, 7], "recipients": [None, ["alice@example.test", "carol@example.test"]]}


def test_it_reminds_nobody_about_requested_or_revoked_exceptions(make_exception, approved, alice):
    from compliance.exceptions.services import revoke_exception

    make_exception(expires_at=timezone.now() + datetime.timedelta(days=3))
    revoke_exception(approved(expires_at=timezone.now() + datetime.timedelta(days=3)).pk, by=alice)
    assert tasks.send_expiry_reminders.delay().get() == 0
    assert mail.outbox == []


def test_it_flags_an_exception_stale_after_90_days_without_a_match(approved):
    start = timezone.now()
    expiry = start + datetime.timedelta(days=300)
    matched, unmatched = approved(expires_at=expiry), approved(expires_at=expiry)
    with time_machine.travel(start + datetime.timedelta(days=89), tick=False):
        assert tasks.flag_stale_exceptions.delay().get() == 0
        mark_matched([matched.pk], timezone.now())
    with time_machine.travel(start + datetime.timedelta(days=91), tick=False):
        assert tasks.flag_stale_exceptions.delay().get() == 1
        assert tasks.flag_stale_exceptions.delay().get() == 0
        unmatched = RiskAcceptance.objects.get(pk=unmatched.pk)
        assert unmatched.stale_since is not None and unmatched.is_stale()
        assert RiskAcceptance.objects.get(pk=matched.pk).stale_since is None
    with time_machine.travel(start + datetime.timedelta(days=200), tick=False):
        assert tasks.flag_stale_exceptions.delay().get() == 1
        mark_matched([unmatched.pk], timezone.now())
    assert RiskAcceptance.objects.get(pk=unmatched.pk).stale_since is None
    assert AuditEvent.objects.filter(action="flag_stale").count() == 2
