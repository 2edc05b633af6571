"""OSCAL assessment results and POA&M, built with compliance-trestle's models from an ExportState (see state.py).

The mapping, in full (docs/oscal.md says the same for readers):
- one observation per CIS recommendation per judged in-scope host (method TEST), `collected` = the standing snapshot's
  collected_at, `expires` = collected_at + PLIMSOLL_STALE_HOURS (when the host turns stale), its evidence the snapshot,
  a back-matter resource whose rlink carries the snapshot's sha256;
- one observation per piece of evidence that counts (method EXAMINE), `collected`/`expires` = its validity;
- one finding per requirement: passing -> satisfied (reason pass); failing -> not-satisfied (fail); needs evidence and
  not covered -> not-satisfied (other), with Plimsoll's own status in a prop and the why in remarks;
- one risk per exception in force, status deviation-approved, with justification, approver and expiry (deadline).
UUIDs are uuid5 of stable keys under one namespace, so the same state exports to the same document except for the
metadata timestamps.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import assessment_results as ar
from trestle.oscal import poam as oscal_poam

from compliance.engine import BENCHMARK, ENGINE_VERSION
from compliance.evidence.models import Evidence
from compliance.exceptions.models import RiskAcceptance
from compliance.oscal.state import ExportState, HostControl, host_controls_by_requirement
from compliance.posture.choices import PostureStatus, RequirementStatus
from compliance.posture.services import RequirementPosture, ScopedHost

EXPORT_VERSION = "plimsoll-oscal 1.0.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:plimsoll:oscal")
# Plimsoll's own property names live in this namespace (OSCAL asks for one on names it does not define).
NS = "urn:plimsoll:oscal"

OBJECTIVE = {
    RequirementStatus.PASSING: ("satisfied", "pass"),
    RequirementStatus.FAILING: ("not-satisfied", "fail"),
    RequirementStatus.NEEDS_EVIDENCE: ("not-satisfied", "other"),
    RequirementStatus.NOT_COVERED: ("not-satisfied", "other"),
}
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def uid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def prop(name: str, value: Any) -> common.Property:
    return common.Property(name=name, value=str(value), ns=NS)


def props(**values: Any) -> list[common.Property]:
    """Properties for the values that are set; names use dashes (OSCAL style)."""
    return [prop(name.replace("_", "-"), value) for name, value in values.items() if value not in (None, "")]


def target_id(ref_id: str) -> str:
    """A requirement's id as an OSCAL token: req-2.2.1, req-164.308_a__1_ (the exact ref_id is in the title)."""
    return "req-" + _TOKEN_UNSAFE.sub("_", ref_id)


def scope_text(scope: str) -> str:
    return f"hosts with {scope}" if scope else "every host"


def moment_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds")


# The pieces both documents share.


def _metadata(state: ExportState, title: str) -> common.Metadata:
    request = state.request
    framework = state.framework
    parties = [
        common.Parties(uuid=party_uuid(name), type="person", name=name)
        for name in sorted(_people(state).values())
    ]
    return common.Metadata(
        title=title,
        last_modified=state.now,
        version=EXPORT_VERSION,
        oscal_version=common.OscalVersion(OSCAL_VERSION),
        props=props(
            framework=framework.label,
            framework_slug=framework.slug,
            framework_urn=framework.urn,
            framework_version=framework.version,
            catalog_revision=framework.revision,
            catalog_sha256=framework.sha256,
            scope=request.scope,
            as_of=moment_text(request.as_of) if request.as_of else None,
            period_start=moment_text(request.period_start) if request.period_start else None,
            period_end=moment_text(request.period_end) if request.period_end else None,
            assessed_at=moment_text(state.moment),
            include_stopped=str(state.posture.include_stopped).lower(),
            engine_version=ENGINE_VERSION,
        ) + [prop("crosswalk", f"{c.urn} revision {c.revision}") for c in state.crosswalks],
        parties=parties or None,
    )


def party_uuid(username: str) -> str:
    return uid("party", "user", username)


def _people(state: ExportState) -> dict[int, str]:
    return state.people


def engine_uuid() -> str:
    return uid("component", "plimsoll-cis-engine", ENGINE_VERSION)


def _engine_component(state: ExportState) -> common.SystemComponent:
    return common.SystemComponent(
        uuid=engine_uuid(),
        type="software",
        title=f"Plimsoll CIS Docker engine {ENGINE_VERSION}",
        description=f"Judges every {BENCHMARK} recommendation on each snapshot an agent pushes; the posture judge then "
                    "applies approved exceptions and valid evidence.",
        status=common.Status(state="operational"),
    )


def host_uuid(host: ScopedHost) -> str:
    return uid("host", host.machine_id)


def _inventory(state: ExportState) -> list[common.InventoryItem]:
    return [
        common.InventoryItem(
            uuid=host_uuid(host),
            description=f"Docker host {host.hostname}",
            props=props(
                hostname=host.hostname, machine_id=host.machine_id,
                judged="true" if host.snapshot_id else "false",
            ) + [prop("label", f"{k}={v}") for k, v in sorted(host.labels.items())],
        )
        for host in state.posture.hosts
    ]


def snapshot_resource_uuid(sha256: str) -> str:
    return uid("snapshot", sha256)


def evidence_resource_uuid(item: Evidence) -> str:
    return uid("evidence", item.pk, item.sha256)


def _back_matter(state: ExportState) -> common.BackMatter | None:
    resources = []
    hostname = {h.snapshot_id: h.hostname for h in state.posture.hosts if h.snapshot_id}
    for snapshot in sorted(state.snapshots.values(), key=lambda s: (hostname[s.id], s.id)):
        resources.append(common.Resource(
            uuid=snapshot_resource_uuid(snapshot.sha256),
            title=f"Snapshot of {hostname[snapshot.id]} collected {moment_text(snapshot.collected_at)}",
            description="The canonical snapshot document the agent pushed, stored unchanged; the hash is the sha256 of "
                        "those exact bytes, recorded at ingest.",
            props=props(snapshot_id=snapshot.id, schema=snapshot.schema, size_bytes=snapshot.size_bytes),
            rlinks=[common.Rlink(
                href=f"/api/v1/snapshots/{snapshot.id}/", media_type="application/json",
                hashes=[common.Hash(algorithm="SHA-256", value=snapshot.sha256)],
            )],
        ))
    for item in state.evidence:
        if item.kind != Evidence.Kind.FILE:
            continue
        resources.append(common.Resource(
            uuid=evidence_resource_uuid(item),
            title=f"Evidence file: {item.title}",
            description=item.original_name or item.title,
            rlinks=[common.Rlink(
                href=reverse("evidence:evidence-download", args=[item.pk]),
                media_type=item.content_type or None,
                hashes=[common.Hash(algorithm="SHA-256", value=item.sha256)],
            )],
        ))
    return common.BackMatter(resources=resources) if resources else None


def observation_uuid(state: ExportState, item: HostControl) -> str:
    return uid(state.key, "observation", item.snapshot.sha256, item.control)


def evidence_observation_uuid(state: ExportState, item: Evidence) -> str:
    return uid(state.key, "attestation", item.pk)


def exception_risk_uuid(state: ExportState, exception: RiskAcceptance) -> str:
    return uid(state.key, "exception", exception.pk, exception.revision)


def _count_text(item: HostControl) -> str:
    parts = [f"{item.counts[s]} {PostureStatus(s).label.lower()}" for s in PostureStatus if item.counts.get(s)]
    return ", ".join(parts) if parts else "no target of this recommendation"


def _observation(state: ExportState, item: HostControl) -> common.Observation:
    title = state.control_titles.get(item.control, "")
    host = item.host
    description = f"CIS Docker {item.control} {title} on {host.hostname}: {_count_text(item)}."
    if item.failing_targets:
        shown = item.failing_targets[:20]
        more = len(item.failing_targets) - len(shown)
        description += " Failing: " + "; ".join(shown) + (f"; and {more} more" if more else "") + "."
    counts = {f"count_{s}": item.counts[s] for s in PostureStatus if item.counts.get(s)}
    return common.Observation(
        uuid=observation_uuid(state, item),
        title=f"CIS {item.control} on {host.hostname}",
        description=description,
        props=props(cis_recommendation=item.control, status=item.status, **counts)
        + [prop("exception", pk) for pk in sorted(item.exceptions)]
        + [prop("evidence", pk) for pk in sorted(item.evidence)],
        methods=["TEST"],
        types=["finding"] if item.status == PostureStatus.FAIL else ["control-objective"],
        origins=[common.Origin(actors=[common.OriginActor(type="tool", actor_uuid=engine_uuid())])],
        subjects=[common.SubjectReference(subject_uuid=host_uuid(host), type="inventory-item", title=host.hostname)],
        relevant_evidence=[common.RelevantEvidence(
            href=f"#{snapshot_resource_uuid(item.snapshot.sha256)}",
            description=f"Snapshot sha256:{item.snapshot.sha256} of {host.hostname}",
        )],
        collected=item.snapshot.collected_at,
        expires=state.expires(item.snapshot.collected_at),
    )


def _attestation(state: ExportState, item: Evidence) -> common.Observation:
    people = _people(state)
    if item.kind == Evidence.Kind.FILE:
        relevant = common.RelevantEvidence(href=f"#{evidence_resource_uuid(item)}", description=f"File sha256:{item.sha256}")
    elif item.kind == Evidence.Kind.LINK:
        relevant = common.RelevantEvidence(href=item.url, description="Link given as evidence")
    else:
        relevant = common.RelevantEvidence(description="A note: its text is this observation's description")
    attached = sorted(f"{r.framework.slug}:{r.ref_id}" for r in item.requirements.all())
    return common.Observation(
        uuid=evidence_observation_uuid(state, item),
        title=f"Evidence #{item.pk}: {item.title}",
        description=(item.description or item.title).strip() or item.title,
        props=props(evidence_id=item.pk, kind=item.kind, scope=item.scope_display,
                    uploaded_by=people.get(item.uploaded_by_id), uploaded_at=moment_text(item.uploaded_at))
        + [prop("attached-to", key) for key in attached],
        methods=["EXAMINE"],
        types=["control-objective"],
        origins=[common.Origin(actors=[common.OriginActor(type="party", actor_uuid=party_uuid(people[item.uploaded_by_id]))])]
        if item.uploaded_by_id in people else None,
        relevant_evidence=[relevant],
        collected=item.collected_at,
        expires=item.valid_until,
    )


def _exception_risk(state: ExportState, exception: RiskAcceptance, observations: Iterable[str]) -> common.Risk:
    people = _people(state)
    approver = people.get(exception.approved_by_id or 0, "")
    requester = people.get(exception.requested_by_id, "")
    title = state.control_titles.get(exception.control, "")
    statement = (
        f"CIS Docker {exception.control} {title} may fail for {exception.scope_display} until "
        f"{moment_text(exception.expires_at)}; approved by {approver} on {moment_text(exception.approved_at)}; "
        f"risk rated {exception.risk_rating}."
    )
    entries = [common.Entry(
        uuid=uid(state.key, "exception-log", exception.pk, "requested"), title="Requested",
        start=exception.requested_at, status_change=common.RiskStatus("deviation-requested"),
        logged_by=[common.LoggedBy(party_uuid=party_uuid(requester))] if requester else None,
    )]
    if exception.approved_at:
        entries.append(common.Entry(
            uuid=uid(state.key, "exception-log", exception.pk, "approved"), title="Approved",
            description=exception.decision_note.strip() or None, start=exception.approved_at, end=exception.expires_at,
            status_change=common.RiskStatus("deviation-approved"),
            logged_by=[common.LoggedBy(party_uuid=party_uuid(approver))] if approver else None,
        ))
    compensating = exception.compensating_controls.strip()
    return common.Risk(
        uuid=exception_risk_uuid(state, exception),
        title=f"Exception #{exception.pk}: CIS {exception.control} accepted for {exception.scope_display}",
        description=exception.justification.strip() or statement,
        statement=statement,
        props=props(exception_id=exception.pk, exception_revision=exception.revision, cis_recommendation=exception.control,
                    scope=exception.scope_display, risk_rating=exception.risk_rating, requested_by=requester,
                    approved_by=approver, approved_at=moment_text(exception.approved_at) if exception.approved_at else None,
                    expires_at=moment_text(exception.expires_at)),
        status=common.RiskStatus("deviation-approved"),
        mitigating_factors=[common.MitigatingFactor(
            uuid=uid(state.key, "exception-mitigation", exception.pk), description=compensating,
        )] if compensating else None,
        deadline=exception.expires_at,
        risk_log=common.RiskLog(entries=entries),
        related_observations=[common.RelatedObservation(observation_uuid=u) for u in observations] or None,
    )


def _finding_description(node: RequirementPosture) -> tuple[str, str | None]:
    """What the finding says, and the remarks that explain a not-satisfied state Plimsoll could not decide."""
    counts = node.counts
    if node.status == RequirementStatus.FAILING:
        failing = "; ".join(f"CIS {f.control} fails on {f.hosts} host(s), {f.targets} target(s)" for f in node.failing)
        return f"Failing: {failing or 'a requirement under it fails'}.", None
    if node.status == RequirementStatus.NEEDS_EVIDENCE:
        why = []
        if counts.manual:
            why.append(f"{counts.manual} manual result(s) not attested by evidence")
        if counts.error:
            why.append(f"{counts.error} result(s) the engine could not decide")
        text = "; ".join(why) or "a mapped check has no result on an in-scope host yet"
        return (f"Needs evidence: {text}.",
                "Plimsoll status needs_evidence: nothing fails, but the checks alone do not prove the requirement.")
    if node.status == RequirementStatus.NOT_COVERED:
        return ("Not covered: no CIS Docker check maps to this requirement and no evidence is attached.",
                "Plimsoll status not_covered: not assessed by Plimsoll; assess it by other means.")
    if node.controls:
        return (f"Passing: {counts.passing} target(s) pass, {counts.excepted} excepted, {counts.attested} attested, "
                f"none fails.", None)
    return "Passing on the evidence attached to it.", None


def _finding(state: ExportState, node: RequirementPosture, observations: list[str]) -> common.Finding:
    framework = state.framework
    state_value, reason = OBJECTIVE[RequirementStatus(node.status)]
    description, remarks = _finding_description(node)
    return common.Finding(
        uuid=uid(state.key, "finding", node.ref_id),
        title=f"{framework.label} {node.ref_id} {node.title}",
        description=description,
        props=props(requirement=node.ref_id, requirement_urn=f"{framework.urn.rpartition(':framework:')[0]}:req:"
                    f"{framework.slug}:{node.ref_id}", status=node.status, assessable=str(node.assessable).lower())
        + [prop("cis-recommendation", c) for c in node.controls],
        target=common.FindingTarget(
            type="objective-id", target_id=target_id(node.ref_id), title=f"{node.ref_id} {node.title}",
            status=common.ObjectiveStatus(state=state_value, reason=reason, remarks=remarks),
        ),
        related_observations=[common.RelatedObservation(observation_uuid=u) for u in observations] or None,
        related_risks=[common.AssociatedRisk(risk_uuid=exception_risk_uuid(state, e))
                       for e in state.exceptions if e.pk in node.exceptions] or None,
    )


def _host_observation_uuids(state: ExportState) -> dict[str, list[str]]:
    return {ref_id: [observation_uuid(state, item) for item in items]
            for ref_id, items in host_controls_by_requirement(state).items()}


def _exception_observations(state: ExportState) -> dict[int, list[str]]:
    covered: dict[int, list[str]] = {}
    for item in state.observations.values():
        for pk in item.exceptions:
            covered.setdefault(pk, []).append(observation_uuid(state, item))
    return covered


def _requirement_observations(state: ExportState, node: RequirementPosture, by_requirement: dict[str, list[str]],
                              evidence: dict[int, Evidence]) -> list[str]:
    return by_requirement.get(node.ref_id, []) + [
        evidence_observation_uuid(state, evidence[pk]) for pk in node.evidence if pk in evidence
    ]


def _result_start(state: ExportState) -> datetime.datetime:
    if state.request.period_start:
        return state.request.period_start
    collected = [s.collected_at for s in state.snapshots.values()]
    return min(collected) if collected else state.moment


def document_title(state: ExportState, kind: str) -> str:
    when = (f"{moment_text(state.request.period_start)} to {moment_text(state.request.period_end)}"
            if state.request.period_start and state.request.period_end else f"as of {moment_text(state.moment)}")
    return f"Plimsoll {kind}: {state.framework.label} over {scope_text(state.request.scope)}, {when}"


def assessment_results(state: ExportState) -> ar.AssessmentResults:
    """The posture as OSCAL assessment results: one result, with its observations, risks and findings."""
    summary = state.posture.summary
    by_requirement = _host_observation_uuids(state)
    evidence = {item.pk: item for item in state.evidence}
    exception_observations = _exception_observations(state)
    observations = [_observation(state, item) for item in _ordered(state)]
    observations += [_attestation(state, item) for item in state.evidence]
    risks = [_exception_risk(state, e, exception_observations.get(e.pk, [])) for e in state.exceptions]
    findings = [
        _finding(state, node, _requirement_observations(state, node, by_requirement, evidence))
        for node in state.posture.requirements
    ]
    result = ar.Result(
        uuid=uid(state.key, "result"),
        title=f"{state.framework.label} over {scope_text(state.request.scope)}",
        description=(f"Posture of {state.framework.label} (catalog revision {state.framework.revision}) over "
                     f"{scope_text(state.request.scope)}, judged at {moment_text(state.moment)}: {summary.hosts} host(s), "
                     f"{summary.hosts_without_results} without results; of {summary.assessable} assessable requirements "
                     f"{summary.failing} failing, {summary.needs_evidence} need evidence, {summary.passing} passing, "
                     f"{summary.not_covered} not covered."),
        start=_result_start(state),
        end=state.moment,
        props=props(hosts=summary.hosts, hosts_without_results=summary.hosts_without_results,
                    assessable=summary.assessable, failing=summary.failing, needs_evidence=summary.needs_evidence,
                    passing=summary.passing, not_covered=summary.not_covered),
        local_definitions=ar.LocalDefinitions1(
            components=[_engine_component(state)], inventory_items=_inventory(state) or None,
        ),
        reviewed_controls=common.ReviewedControls(
            description=f"Every requirement of {state.framework.label} ({state.framework.urn}, catalog revision "
                        f"{state.framework.revision}), judged through the crosswalks named in the metadata.",
            control_selections=[common.ControlSelection(include_all=common.IncludeAll())],
        ),
        observations=observations or None,
        risks=risks or None,
        findings=findings or None,
    )
    return ar.AssessmentResults(
        uuid=uid(state.key, "assessment-results"),
        metadata=_metadata(state, document_title(state, "assessment results")),
        import_ap=ar.ImportAp(
            href=_posture_href(state),
            remarks="Plimsoll keeps no OSCAL assessment plan: the plan is the framework catalog and crosswalks named in "
                    "the metadata, applied to the hosts of the scope; the href is the posture this result records.",
        ),
        results=[result],
        back_matter=_back_matter(state),
    )


def _posture_href(state: ExportState) -> str:
    from urllib.parse import urlencode

    query = {"scope": state.request.scope, "as_of": moment_text(state.moment) if state.request.moment else ""}
    encoded = urlencode({k: v for k, v in query.items() if v})
    return reverse("posture:framework", args=[state.framework.slug]) + (f"?{encoded}" if encoded else "")


def _ordered(state: ExportState) -> list[HostControl]:
    hostname = {h.id: h.hostname for h in state.posture.hosts}
    order = {control: i for i, control in enumerate(state.controls)}
    return sorted(state.observations.values(), key=lambda i: (order[i.control], hostname[i.host.id], i.host.id))


def poam(state: ExportState) -> oscal_poam.PlanOfActionAndMilestones:
    """A plan of action: an item per failing requirement (its open risks per failing recommendation) and one per
    exception in force (its deviation-approved risk, due at the expiry)."""
    failing = [n for n in state.posture.requirements if n.status == RequirementStatus.FAILING and n.failing]
    failing_controls = sorted({f.control for n in failing for f in n.failing}, key=state.controls.index)
    exception_observations = _exception_observations(state)

    observations: dict[str, common.Observation] = {}

    def observe(item: HostControl) -> str:
        key = observation_uuid(state, item)
        if key not in observations:
            observations[key] = _observation(state, item)
        return key

    risks: list[common.Risk] = []
    control_risk: dict[str, str] = {}
    control_observations: dict[str, list[str]] = {}
    for control in failing_controls:
        items = [i for i in state.host_controls(control) if i.counts.get(PostureStatus.FAIL)]
        uuids = [observe(i) for i in items]
        control_observations[control] = uuids
        title = state.control_titles.get(control, "")
        hosts = ", ".join(i.host.hostname for i in items)
        targets = sum(i.counts[PostureStatus.FAIL] for i in items)
        risk_uuid = uid(state.key, "open-risk", control)
        control_risk[control] = risk_uuid
        risks.append(common.Risk(
            uuid=risk_uuid,
            title=f"CIS {control} fails",
            description=f"CIS Docker {control} {title}: {targets} failing target(s) on {len(items)} host(s) ({hosts}), "
                        "with no exception covering them.",
            statement=f"Until CIS Docker {control} passes, the requirements it is mapped to fail.",
            props=props(cis_recommendation=control, failing_hosts=len(items), failing_targets=targets),
            status=common.RiskStatus("open"),
            remediations=[common.Response(
                uuid=uid(state.key, "remediation", control), lifecycle="planned",
                title=f"Make CIS {control} pass",
                description=f"Fix the failing targets ({title}), or request an exception with a justification; the "
                            "next snapshot of each host shows the result.",
            )],
            related_observations=[common.RelatedObservation(observation_uuid=u) for u in uuids] or None,
        ))
    for exception in state.exceptions:
        uuids = exception_observations.get(exception.pk, [])
        for item in state.observations.values():
            if exception.pk in item.exceptions:
                observe(item)
        risks.append(_exception_risk(state, exception, uuids))

    findings = []
    items = []
    for node in failing:
        related = [u for f in node.failing for u in control_observations.get(f.control, [])]
        finding = _finding(state, node, related)
        findings.append(finding)
        items.append(oscal_poam.PoamItem(
            uuid=uid(state.key, "poam-item", "requirement", node.ref_id),
            title=f"{state.framework.label} {node.ref_id} fails",
            description=f"{node.ref_id} {node.title}. {_finding_description(node)[0]}",
            props=props(requirement=node.ref_id, status=node.status),
            related_findings=[oscal_poam.RelatedFinding(finding_uuid=finding.uuid)],
            related_observations=[common.RelatedObservation(observation_uuid=u) for u in related] or None,
            related_risks=[common.AssociatedRisk(risk_uuid=control_risk[f.control]) for f in node.failing],
        ))
    for exception in state.exceptions:
        uuids = exception_observations.get(exception.pk, [])
        items.append(oscal_poam.PoamItem(
            uuid=uid(state.key, "poam-item", "exception", exception.pk),
            title=f"Exception #{exception.pk} for CIS {exception.control} expires {exception.expires_at:%Y-%m-%d}",
            description=f"CIS Docker {exception.control} is accepted to fail for {exception.scope_display} until "
                        f"{moment_text(exception.expires_at)}: fix it or renew the exception by then.",
            props=props(exception_id=exception.pk, cis_recommendation=exception.control,
                        expires_at=moment_text(exception.expires_at)),
            related_observations=[common.RelatedObservation(observation_uuid=u) for u in uuids] or None,
            related_risks=[common.AssociatedRisk(risk_uuid=exception_risk_uuid(state, exception))],
        ))
    return oscal_poam.PlanOfActionAndMilestones(
        uuid=uid(state.key, "poam"),
        metadata=_metadata(state, document_title(state, "plan of action and milestones")),
        local_definitions=oscal_poam.LocalDefinitions(
            components=[_engine_component(state)], inventory_items=_inventory(state) or None,
        ),
        observations=list(observations.values()) or None,
        risks=risks or None,
        findings=findings or None,
        poam_items=items,
        back_matter=_back_matter(state),
    )
