"""The one posture judge: what a stored result counts as at a moment.

A result's raw status (pass, fail, info, manual, not_applicable, error) is what the engine saw. Its posture status
adds what people decided, as it stood at one moment: a `fail` covered by an approved, unexpired exception is
`excepted`; a `manual` result attested by valid evidence is `attested`. The posture counts, the requirement
drill-down, the host page, the API and the reports all ask a `Judge`; nothing else decides a status.

The rules, in full:
- An exception covers a failing result when it is active at the moment, names the result's control, and its scope
  takes in the result: every host, hosts matching a label selector, one host (host-wide scopes), containers whose
  name matches a glob, or an image (by reference or id; a container result by the image it was created from).
- Evidence attests a manual result when it is valid at the moment, its scope takes in the result's host, and it is
  attached to the result's control directly or to a framework requirement that control is mapped to (current
  crosswalks). The answer is the same whichever framework is being looked at.
- Imported scans and signatures decide the host-level results of CIS 4.4, 4.5 and 4.12 (compliance/imports/judging.py,
  docs/cis-docker.md): Trivy scans turn a manual 4.4 into pass or fail (a failing or too old scan fails, never a silent
  pass), Cosign verifications attest 4.12 and stand for content trust on a failing 4.5. A failing 4.4 can still be
  excepted; evidence still attests a 4.4 or 4.12 that imports leave manual. The verdict names the imports it used.
- Stopped containers: their results are judged like any other, but counted toward a posture only when asked
  (`include_stopped`, default the setting PLIMSOLL_POSTURE_INCLUDE_STOPPED); `compliance.models.is_stopped` says
  which results those are.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from compliance.choices import ResultStatus
from compliance.evidence.models import Evidence
from compliance.evidence.services import valid_evidence
from compliance.exceptions.choices import ScopeKind
from compliance.exceptions.models import RiskAcceptance
from compliance.exceptions.services import active_exceptions
from compliance.imports.judging import IMPORT_CONTROLS, ImportedVerdict, ImportIndex
from compliance.models import is_stopped
from compliance.posture.choices import PostureStatus
from frameworks.models import Mapping

HOST_WIDE_SCOPES = frozenset({ScopeKind.ALL, ScopeKind.SELECTOR, ScopeKind.HOST})

_RAW = {
    ResultStatus.PASS: PostureStatus.PASS,
    ResultStatus.FAIL: PostureStatus.FAIL,
    ResultStatus.INFO: PostureStatus.INFO,
    ResultStatus.MANUAL: PostureStatus.MANUAL,
    ResultStatus.NOT_APPLICABLE: PostureStatus.NOT_APPLICABLE,
    ResultStatus.ERROR: PostureStatus.ERROR,
}


class JudgedHost(Protocol):
    """What the judge needs of a host: its id and its labels at the moment judged."""

    id: int
    labels: dict[str, str]


@dataclass(frozen=True)
class Target:
    """What the judge needs of a result: its control, raw status and target (a Result row has all of these)."""

    control: str
    status: str
    target_kind: str
    target_name: str
    target_id: str = ""
    target_state: str = ""


@dataclass(frozen=True)
class Verdict:
    """A result's posture status, with the exception, evidence or imported scan/signature that made it so."""

    status: PostureStatus
    exception: RiskAcceptance | None = None
    evidence: Evidence | None = None
    imported: ImportedVerdict | None = None


class Judge:
    """The exceptions and evidence valid at one moment, and the rules that apply them to results."""

    def __init__(
        self,
        at: datetime.datetime,
        exceptions: list[RiskAcceptance],
        evidence: list[Evidence],
        attests: dict[int, frozenset[str]],
        include_stopped: bool,
        imports: ImportIndex | None = None,
    ) -> None:
        self.at = at
        self.include_stopped = include_stopped
        self.imports = imports if imports is not None else ImportIndex(at)
        self.evidence = evidence
        self._attests = attests
        self._host_wide: dict[str, list[RiskAcceptance]] = defaultdict(list)
        self._target_scoped: dict[str, list[RiskAcceptance]] = defaultdict(list)
        for exception in exceptions:
            scoped = self._host_wide if exception.scope_kind in HOST_WIDE_SCOPES else self._target_scoped
            scoped[exception.control].append(exception)
        self._evidence_by_control: dict[str, list[Evidence]] = defaultdict(list)
        for item in evidence:
            for control in sorted(attests.get(item.pk, ())):
                self._evidence_by_control[control].append(item)

    @classmethod
    def at(cls, at: datetime.datetime | None = None, include_stopped: bool | None = None) -> Judge:
        """The judge of moment `at` (now by default): four queries whatever the number of hosts and results; judging a
        host's 4.4, 4.5 or 4.12 result reads the imports once (one query) and, when there are any, the images of the
        snapshots standing at the moment (five)."""
        moment = at or timezone.now()
        if include_stopped is None:
            include_stopped = settings.PLIMSOLL_POSTURE_INCLUDE_STOPPED
        evidence = valid_evidence(moment)
        return cls(moment, active_exceptions(moment), evidence, _attested_controls(evidence), include_stopped)

    # What the judge knows about a control, so callers read per-target rows only where it matters.

    def touches(self, control: str) -> bool:
        """True when an exception, evidence or an import may change a result of this control."""
        return (control in self._host_wide or control in self._target_scoped or control in self._evidence_by_control
                or control in self.imported_controls)

    @property
    def imported_controls(self) -> frozenset[str]:
        """The controls imported scans and signatures may decide: these three once anything is imported by the judge's
        moment (one query, once per judge), none before, so an estate without imports judges their rows in bulk."""
        return IMPORT_CONTROLS if self.imports.active else frozenset()

    def has_target_scopes(self, control: str) -> bool:
        """True when a container or image-scoped exception names this control: failing rows must be read one by one."""
        return control in self._target_scoped

    @property
    def controls_touched(self) -> set[str]:
        return set(self._host_wide) | set(self._target_scoped) | set(self._evidence_by_control) | self.imported_controls

    # The rules.

    def counts(self, target: Any) -> bool:
        """Whether a result counts toward a posture: stopped containers only when asked."""
        return self.include_stopped or not is_stopped(target.target_kind, target.target_state)

    def host_exception(self, control: str, host: JudgedHost | None) -> RiskAcceptance | None:
        """An exception that covers every failing target of `control` on `host` (all, selector or host scope)."""
        probe = Target(control, ResultStatus.FAIL, "host", "")
        return next((e for e in self._host_wide.get(control, ()) if e.covers(probe, host)), None)

    def target_exception(
        self, target: Any, host: JudgedHost | None, image: tuple[str, str] | None = None
    ) -> RiskAcceptance | None:
        """A container- or image-scoped exception that covers this one failing target."""
        return next((e for e in self._target_scoped.get(target.control, ()) if e.covers(target, host, image)), None)

    def attesting(self, control: str, host: JudgedHost | None) -> Evidence | None:
        """Evidence that attests the manual results of `control` on `host`."""
        return next((e for e in self._evidence_by_control.get(control, ()) if e.covers_host(host)), None)

    def imported(self, target: Any, host: JudgedHost | None) -> ImportedVerdict | None:
        """What imported scans and signatures make of a host-level 4.4, 4.5 or 4.12 result (None: nothing).

        The snapshot is the result's own, or else the one standing for `host` (a posture's ScopedHost)."""
        if target.control not in IMPORT_CONTROLS or target.target_kind != "host" or not self.imports.active:
            return None
        snapshot_id = getattr(target, "snapshot_id", None) or getattr(host, "snapshot_id", None)
        return self.imports.decide(target.control, target.status, snapshot_id)

    def verdict(self, target: Any, host: JudgedHost | None, image: tuple[str, str] | None = None) -> Verdict:
        """The posture status of one result; `image` is the (reference, id) of a container result's image if known."""
        status = target.status
        imported = self.imported(target, host)
        if imported is not None and imported.status != PostureStatus.MANUAL:
            if imported.status == PostureStatus.FAIL:
                exception = self.host_exception(target.control, host)
                if exception is not None:
                    return Verdict(PostureStatus.EXCEPTED, exception=exception, imported=imported)
            return Verdict(imported.status, imported=imported)
        if status == ResultStatus.FAIL:
            exception = self.host_exception(target.control, host) or self.target_exception(target, host, image)
            if exception is not None:
                return Verdict(PostureStatus.EXCEPTED, exception=exception)
        elif status == ResultStatus.MANUAL:
            evidence = self.attesting(target.control, host)
            if evidence is not None:
                return Verdict(PostureStatus.ATTESTED, evidence=evidence, imported=imported)
        return Verdict(_RAW[ResultStatus(status)], imported=imported)


def _attested_controls(evidence: list[Evidence]) -> dict[int, frozenset[str]]:
    """Evidence id -> the CIS controls it attests: those it is attached to, and those mapped to its requirements."""
    requirement_ids = {rid for item in evidence for rid in item.requirement_ids}
    mapped: dict[int, set[str]] = defaultdict(set)
    if requirement_ids:
        rows = Mapping.objects.filter(target_id__in=requirement_ids, crosswalk__is_current=True)
        for target_id, control in rows.values_list("target_id", "source__ref_id"):
            mapped[target_id].add(control)
    return {
        item.pk: frozenset(item.controls).union(*(mapped.get(rid, ()) for rid in item.requirement_ids))
        for item in evidence
    }
