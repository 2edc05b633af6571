"""What an export says, gathered from the posture (compliance.posture.services, the one judge): the posture itself, the
standing snapshot of each in-scope host, each CIS recommendation's results on each host as the judge sees them, the
exceptions in force and the evidence that counts.

A fixed number of queries whatever the number of hosts: the per-host counts come from the control tallies, and only
the failing, manual and error results (what the judge can change) are read one by one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from compliance.engine import BENCHMARK, ENGINE_VERSION
from compliance.evidence.models import Evidence
from compliance.exceptions.choices import ScopeKind
from compliance.exceptions.models import RiskAcceptance
from compliance.exceptions.services import active_exceptions
from compliance.models import STOPPED, ControlTally, Result
from compliance.oscal.params import ExportRequest
from compliance.posture.choices import PostureStatus
from compliance.posture.services import LISTED_STATUSES, Posture, ScopedHost, compute_posture, judge_rows, ref_key
from frameworks.models import Crosswalk, Framework
from frameworks.services import cis_recommendations
from inventory.models import Snapshot

# Worst first: an observation of one recommendation on one host carries the worst posture status among its targets.
OBSERVATION_SEVERITY = [
    PostureStatus.FAIL, PostureStatus.ERROR, PostureStatus.MANUAL, PostureStatus.EXCEPTED, PostureStatus.ATTESTED,
    PostureStatus.PASS, PostureStatus.INFO, PostureStatus.NOT_APPLICABLE,
]
NO_TARGETS = "no_targets"
# A failing observation names at most this many failing targets; the counts stay exact.
LISTED_TARGETS = 20


@dataclass(frozen=True)
class SnapshotRef:
    """The snapshot that stands for a host: the evidence an observation is drawn from."""

    id: int
    sha256: str
    collected_at: datetime.datetime
    size_bytes: int
    schema: str


@dataclass
class HostControl:
    """One CIS recommendation on one host: its targets counted by posture status, and what changed a verdict."""

    host: ScopedHost
    snapshot: SnapshotRef
    control: str
    counts: Counter[str] = field(default_factory=Counter)
    failing_targets: list[str] = field(default_factory=list)
    exceptions: set[int] = field(default_factory=set)
    evidence: set[int] = field(default_factory=set)

    @property
    def status(self) -> str:
        present = [s for s in OBSERVATION_SEVERITY if self.counts.get(s)]
        return present[0] if present else NO_TARGETS


@dataclass
class ExportState:
    request: ExportRequest
    posture: Posture
    moment: datetime.datetime
    now: datetime.datetime
    controls: list[str]
    control_titles: dict[str, str]
    snapshots: dict[int, SnapshotRef]
    observations: dict[tuple[int, str], HostControl]
    exceptions: list[RiskAcceptance]
    evidence: list[Evidence]
    crosswalks: list[Crosswalk]
    people: dict[int, str]
    key: str

    @property
    def framework(self) -> Framework:
        return self.request.framework

    @property
    def judged_hosts(self) -> list[ScopedHost]:
        return [h for h in self.posture.hosts if h.snapshot_id]

    def host_controls(self, control: str) -> list[HostControl]:
        return [self.observations[(h.id, control)] for h in self.judged_hosts if (h.id, control) in self.observations]

    def expires(self, collected: datetime.datetime) -> datetime.datetime:
        """A snapshot stops standing for its host once the host counts as stale (PLIMSOLL_STALE_HOURS)."""
        return collected + datetime.timedelta(hours=settings.PLIMSOLL_STALE_HOURS)


def gather(request: ExportRequest, now: datetime.datetime | None = None) -> ExportState:
    now = now or timezone.now()
    posture = compute_posture(request.framework.slug, request.scope, request.moment, request.include_stopped)
    moment = posture.judge.at
    controls = sorted({c for r in posture.requirements for c in r.controls}, key=ref_key)
    titles = {ref_id: r.title for ref_id, r in cis_recommendations().items()}
    hosts = {h.id: h for h in posture.hosts if h.snapshot_id}
    snapshots = {
        row["id"]: SnapshotRef(**row)
        for row in Snapshot.objects.filter(pk__in=[h.snapshot_id for h in hosts.values()]).values(
            "id", "sha256", "collected_at", "size_bytes", "schema"
        )
    }
    observations = _host_controls(posture, hosts, snapshots, controls)
    exceptions = _exceptions_in_scope(posture, moment, set(controls), observations)
    evidence_ids = {pk for r in posture.requirements for pk in r.evidence}
    evidence = sorted((e for e in posture.judge.evidence if e.pk in evidence_ids), key=lambda e: e.pk)
    crosswalks = list(
        Crosswalk.objects.filter(is_current=True, target_framework=request.framework).order_by("urn")
    ) if request.framework.slug != BENCHMARK else []
    state = ExportState(request, posture, moment, now, controls, titles, snapshots, observations, exceptions, evidence,
                        crosswalks, _people(exceptions, evidence), key="")
    state.key = _state_key(state)
    return state


def _host_controls(
    posture: Posture, hosts: dict[int, ScopedHost], snapshots: dict[int, SnapshotRef], controls: list[str]
) -> dict[tuple[int, str], HostControl]:
    """(host id, control) -> its results as the judge sees them, for every judged in-scope host and mapped control."""
    found: dict[tuple[int, str], HostControl] = {}
    for host in hosts.values():
        snapshot = snapshots[host.snapshot_id]  # type: ignore[index]
        for control in controls:
            found[(host.id, control)] = HostControl(host, snapshot, control)
    if not found:
        return found
    snapshot_ids = list(snapshots)
    tallies = ControlTally.objects.filter(is_current=True, snapshot_id__any=snapshot_ids, control__in=controls)
    if not posture.include_stopped:
        tallies = tallies.filter(stopped=False)
    for row in tallies.values("host_id", "control", "passed", "info", "not_applicable"):
        item = found.get((row["host_id"], row["control"]))
        if item is None:
            continue
        item.counts[PostureStatus.PASS] += row["passed"]
        item.counts[PostureStatus.INFO] += row["info"]
        item.counts[PostureStatus.NOT_APPLICABLE] += row["not_applicable"]
    # Failing, manual and error results are what exceptions and evidence change: each gets the judge's verdict.
    listed = Result.objects.filter(
        is_current=True, snapshot_id__any=snapshot_ids, control__in=controls, status__in=LISTED_STATUSES
    ).defer("evidence", "expected")
    if not posture.include_stopped:
        listed = listed.exclude(STOPPED)
    listed = listed.order_by("control", "host_id", "target_kind", "target_name", "id")
    for row in judge_rows(posture.judge, listed, hosts):
        result = row.result
        item = found.get((result.host_id, result.control))
        if item is None:
            continue
        item.counts[row.status] += 1
        if row.status == PostureStatus.FAIL:
            item.failing_targets.append(f"{result.target_kind} {result.target_name}")
        if row.verdict.exception is not None:
            item.exceptions.add(row.verdict.exception.pk)
        if row.verdict.evidence is not None:
            item.evidence.add(row.verdict.evidence.pk)
    return found


def _exceptions_in_scope(
    posture: Posture, moment: datetime.datetime, controls: set[str], observations: dict[tuple[int, str], HostControl]
) -> list[RiskAcceptance]:
    """Exceptions in force at the moment for the framework's recommendations whose scope takes in an in-scope host.

    A container or image scope is known to take in a host only through a failing result it covers, so those count when
    they cover one; host-wide scopes (all, a selector, a host) count when they match an in-scope host.
    """
    covering = {pk for item in observations.values() for pk in item.exceptions}
    chosen = []
    for exception in active_exceptions(moment):
        if exception.control not in controls:
            continue
        if exception.pk in covering:
            chosen.append(exception)
        elif exception.scope_kind == ScopeKind.ALL and posture.hosts:
            chosen.append(exception)
        elif exception.scope_kind == ScopeKind.SELECTOR and any(exception.selector.matches(h.labels) for h in posture.hosts):
            chosen.append(exception)
        elif exception.scope_kind == ScopeKind.HOST and any(h.id == exception.scope_host_id for h in posture.hosts):
            chosen.append(exception)
    return chosen


def _people(exceptions: list[RiskAcceptance], evidence: list[Evidence]) -> dict[int, str]:
    """User id -> username of everyone an exception or a piece of evidence names (one query)."""
    ids: set[int] = set()
    for exception in exceptions:
        ids.update(i for i in (exception.requested_by_id, exception.approved_by_id) if i)
    ids.update(item.uploaded_by_id for item in evidence)
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}


def _state_key(state: ExportState) -> str:
    """A digest of everything the export says, so its UUIDs are the same for the same state and differ otherwise."""
    request = state.request
    parts: dict[str, Any] = {
        "framework": [request.framework.urn, request.framework.revision, request.framework.sha256],
        "crosswalks": [[c.urn, c.revision, c.sha256] for c in state.crosswalks],
        "scope": request.scope,
        "include_stopped": state.posture.include_stopped,
        "as_of": request.as_of.isoformat() if request.as_of else None,
        "period": [request.period_start.isoformat(), request.period_end.isoformat()] if request.period_start
        and request.period_end else None,
        "engine": ENGINE_VERSION,
        "hosts": [[h.id, h.snapshot_id, sorted(h.labels.items())] for h in state.posture.hosts],
        "snapshots": sorted(s.sha256 for s in state.snapshots.values()),
        "exceptions": [[e.pk, e.revision, e.status, e.expires_at.isoformat()] for e in state.exceptions],
        "evidence": [[e.pk, e.sha256, e.valid_until.isoformat()] for e in state.evidence],
    }
    if request.as_of is None and request.period_end is None:
        # As of now: the judged moment is the request's, so the same state exported twice still reads alike.
        parts["as_of"] = "now"
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def host_controls_by_requirement(state: ExportState) -> dict[str, list[HostControl]]:
    """ref_id -> the observations of the recommendations mapped to it, in control then host order."""
    found: dict[str, list[HostControl]] = defaultdict(list)
    for requirement in state.posture.requirements:
        for control in requirement.controls:
            found[requirement.ref_id].extend(state.host_controls(control))
    return found
