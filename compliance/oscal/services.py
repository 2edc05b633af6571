"""OSCAL exports of a framework's posture: assessment results and a plan of action and milestones (POA&M), as JSON
bytes validated by compliance-trestle's models on the way out."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.utils import timezone

from compliance.oscal import documents
from compliance.oscal.params import ExportRequest, OscalError, parse_export_request
from compliance.oscal.state import gather
from compliance.posture.services import PostureError

KINDS = ("assessment-results", "poam")

__all__ = ["KINDS", "ExportRequest", "OscalError", "export", "export_name", "parse_export_request"]


def export(kind: str, request: ExportRequest, now: datetime.datetime | None = None) -> bytes:
    """The OSCAL JSON document (wrapped in its root key, e.g. {"assessment-results": {...}})."""
    if kind not in KINDS:
        raise OscalError("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    try:
        state = gather(request, now or timezone.now())
    except PostureError as exc:
        raise OscalError(exc.field, exc.reason) from None
    model = documents.assessment_results(state) if kind == "assessment-results" else documents.poam(state)
    return model.oscal_serialize_json_bytes(pretty=True, wrapped=True)


def export_name(kind: str, request: ExportRequest, now: datetime.datetime | None = None) -> str:
    """plimsoll-pci-dss-4.0.1-pci_cde-2026-11-30-assessment-results.json"""
    parts = ["plimsoll", request.framework.slug]
    if request.scope:
        parts.append(request.scope)
    if request.period_start and request.period_end:
        parts.append(f"{request.period_start:%Y-%m-%d}-to-{request.period_end:%Y-%m-%d}")
    else:
        parts.append(f"{(request.as_of or now or timezone.now()):%Y-%m-%d}")
    parts.append(kind)
    text = "-".join(parts)
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)[:180] + ".json"


def export_from_params(kind: str, params: Mapping[str, str | None]) -> tuple[str, bytes]:
    """Parse, then export: (file name, JSON bytes); raises OscalError naming the parameter."""
    now = timezone.now()
    request = parse_export_request(params, now)
    return export_name(kind, request, now), export(kind, request, now)
