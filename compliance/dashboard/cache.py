"""Postures cached until something they are computed from changes.

A posture over thousands of hosts costs a few hundred milliseconds; the overview wants four of them on every visit.
Each cached posture is keyed by a fingerprint of everything compute_posture reads, taken in a few cheap aggregate
queries on every request:

- new results: the newest evaluation (every judging, re-judging included, creates one), the snapshots (a deleted
  standing snapshot changes which one stands);
- hosts and their labels: the hosts, and the newest label-history row (every change of effective labels adds one);
- exceptions and evidence: their newest rows and decisions, and the next moment one of them expires or starts to
  count, so a posture cached before an exception lapses is not served after it;
- the catalogs and crosswalks (a new revision is a new row), and the stopped-containers setting.

A new result, decision, upload or label change therefore shows at once, in every process (the key is read from the
database, not from a signal one process would miss).
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from compliance.evidence.models import Evidence
from compliance.exceptions.models import RiskAcceptance
from compliance.models import Evaluation
from compliance.posture.services import Posture, compute_posture
from frameworks.models import Crosswalk, Framework
from inventory.models import Host, HostLabels, Snapshot

TIMEOUT = 24 * 3600  # an upper bound only: the fingerprint decides whether an entry is still right


def fingerprint(now: datetime.datetime | None = None) -> str:
    """A digest of what the current postures are computed from (eight small aggregate queries)."""
    now = now or timezone.now()
    parts: list[Any] = [
        settings.PLIMSOLL_POSTURE_INCLUDE_STOPPED,
        Evaluation.objects.aggregate(n=Max("id"))["n"],
        Snapshot.objects.aggregate(n=Count("id"), last=Max("id")),
        Host.objects.aggregate(n=Count("id"), last=Max("id")),
        HostLabels.objects.aggregate(last=Max("id")),
        RiskAcceptance.objects.aggregate(
            n=Count("id"), last=Max("id"), revisions=Sum("revision"), approved=Max("approved_at"),
            revoked=Max("revoked_at"), rejected=Max("rejected_at"),
            next_expiry=Min("expires_at", filter=Q(expires_at__gt=now)),
        ),
        Evidence.objects.aggregate(
            n=Count("id"), last=Max("id"), uploaded=Max("uploaded_at"),
            next_end=Min("valid_until", filter=Q(valid_until__gt=now)),
            next_start=Min("collected_at", filter=Q(collected_at__gt=now)),
        ),
        Framework.objects.aggregate(last=Max("id")),
        Crosswalk.objects.aggregate(last=Max("id")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def cached_posture(slug: str, scope: str = "", as_of: datetime.datetime | None = None,
                   include_stopped: bool | None = None, key: str | None = None) -> Posture:
    """compute_posture, served from the cache while the fingerprint (`key`, taken once per request) is unchanged.

    Raises PostureError as compute_posture does (errors are not cached).
    """
    key = key or fingerprint()
    moment = as_of.isoformat() if as_of else "now"
    digest = hashlib.sha256(repr((slug, scope, moment, include_stopped)).encode()).hexdigest()[:24]
    name = f"plimsoll:posture:{key}:{digest}"
    posture = cache.get(name)
    if posture is None:
        posture = compute_posture(slug, scope, as_of=as_of, include_stopped=include_stopped)
        cache.set(name, posture, TIMEOUT)
    return posture
