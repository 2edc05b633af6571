"""Logins and failed logins go to the audit trail; failed logins and lockouts in bounded number.

Anyone can send failed logins, and audit rows are kept forever, so the trail records failures in a bounded way
(docs/security.md). Within one lockout window (AXES_COOLOFF_TIME) it records:
- for one username from one address: its failures until the lockout (AXES_FAILURE_LIMIT - 1), then one `lockout`
  event (for the failure that reached the limit) and nothing more;
- from one address, whatever the usernames: at most PLIMSOLL_AUDIT_FAILED_LOGINS_PER_ADDRESS rows;
- in all: at most PLIMSOLL_AUDIT_FAILED_LOGINS_MAX rows.
A failure past a bound is counted by django-axes (AccessAttempt.failures_since_start) and logged, not stored here.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from audit.choices import AuditAction
from audit.models import AuditEvent
from audit.services import client_ip, record

log = logging.getLogger(__name__)
_BOUNDED = (AuditAction.LOGIN_FAILED, AuditAction.LOCKOUT)


def lockout_window() -> datetime.timedelta:
    """How far back the bounds count: the lockout's cool-off (AXES_COOLOFF_TIME, hours), 15 minutes when unset."""
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cool_off, datetime.timedelta):
        return cool_off
    if isinstance(cool_off, int | float) and cool_off > 0:
        return datetime.timedelta(hours=cool_off)
    return datetime.timedelta(minutes=15)


def _counts(username: str, ip: str | None) -> dict[str, int]:
    """Rows recorded in the current window: in all, from this address, and for this username from it, by action."""
    same_ip = Q(ip=ip) if ip is not None else Q(ip__isnull=True)
    pair = same_ip & Q(actor_username=username)
    return AuditEvent.objects.filter(action__in=_BOUNDED, timestamp__gte=timezone.now() - lockout_window()).aggregate(
        total=Count("id"),
        address=Count("id", filter=same_ip),
        failed=Count("id", filter=pair & Q(action=AuditAction.LOGIN_FAILED)),
        lockouts=Count("id", filter=pair & Q(action=AuditAction.LOCKOUT)),
    )


def _within_global_bounds(counts: dict[str, int], username: str, ip: str | None) -> bool:
    if counts["total"] >= settings.PLIMSOLL_AUDIT_FAILED_LOGINS_MAX:
        log.warning("audit: failed-login bound reached (%s rows in the window); not recording %r from %s",
                    counts["total"], username, ip)
        return False
    if counts["address"] >= settings.PLIMSOLL_AUDIT_FAILED_LOGINS_PER_ADDRESS:
        log.warning("audit: failed-login bound reached for %s; not recording %r", ip, username)
        return False
    return True


@receiver(user_logged_in, dispatch_uid="audit_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(AuditAction.LOGIN, user, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    if getattr(request, "axes_locked_out", False):
        return  # refused by the lockout, which is recorded once (on_locked_out)
    counts = _counts(username, client_ip(request))
    # django-axes' receiver runs first (this module imports axes.signals before connecting its own), so the failure
    # that reaches the limit is recorded as the lockout, and nothing more is recorded for the pair in this window.
    if counts["lockouts"] or counts["failed"] >= settings.AXES_FAILURE_LIMIT:
        return
    if not _within_global_bounds(counts, username, client_ip(request)):
        return
    record(AuditAction.LOGIN_FAILED, None, request=request, username=username, object_repr=username)


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def on_locked_out(sender: Any, request: Any = None, username: str | None = None, **kwargs: Any) -> None:
    # django-axes sends this when the limit is reached and again for each attempt refused while locked out: the
    # trail keeps the first of each window.
    username = str(username or "")[:150]
    ip = client_ip(request)
    # Each attempt refused while locked out comes here: the cache spares the count query once the lockout is known to
    # be recorded (the query decides when the cache does not know, e.g. in another process).
    known = "audit-lockout:" + hashlib.sha256(f"{username}\0{ip}".encode()).hexdigest()
    if cache.get(known):
        return
    counts = _counts(username, ip)
    if counts["lockouts"]:
        cache.set(known, True, timeout=int(lockout_window().total_seconds()))
        return
    if not _within_global_bounds(counts, username, ip):
        return
    failures = getattr(request, "axes_failures_since_start", None) or counts["failed"]
    record(
        AuditAction.LOCKOUT, None, request=request, username=username, object_repr=username,
        changes={"failures": [None, failures], "cool_off_seconds": [None, int(lockout_window().total_seconds())]},
    )
    cache.set(known, True, timeout=int(lockout_window().total_seconds()))
