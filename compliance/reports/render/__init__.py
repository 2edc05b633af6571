"""Rendering a report: each kind builds its content (data, attachments, manifest entries) from the posture services,
then one template is laid out by WeasyPrint with the evidence pack attached.

render_to_file(report, workdir, progress) -> Rendered; the caller signs and stores the file.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from compliance.engine import BENCHMARK, ENGINE_VERSION
from compliance.reports.choices import GENERATOR_VERSION, ReportKind
from compliance.reports.models import Report
from compliance.reports.render.pdf import PackFile, write_pdf
from compliance.reports.services import chain_heads

Progress = Callable[[int, str], None]


@dataclass
class Content:
    """What a kind of report contributes: its template and context, its data files and its manifest entries."""

    template: str
    context: dict[str, Any]
    pack: list[PackFile]
    manifest: dict[str, Any]
    title: str
    subject: str
    keywords: list[str]
    runhead: str
    framework_revision: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    path: Path
    pages: int
    manifest_sha256: str
    framework_revision: int | None


def pack_file(path: Path, name: str, description: str, rows: int | None = None) -> PackFile:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return PackFile(name, path, description, digest.hexdigest(), size, rows)


def requester_label(report: Report) -> str:
    user = report.requested_by
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


def render_to_file(report: Report, workdir: Path, progress: Progress) -> Rendered:
    from compliance.reports.render import framework, hardening, registers

    builders: dict[str, Callable[[Report, Path, Progress], Content]] = {
        ReportKind.FRAMEWORK: framework.build,
        ReportKind.HARDENING: hardening.build,
        ReportKind.EXCEPTIONS: registers.build_exceptions,
        ReportKind.EVIDENCE: registers.build_evidence,
    }
    generated_at = timezone.now()
    content = builders[report.kind](report, workdir, progress)

    progress(60, "Writing the manifest")
    manifest = {
        "report": {
            "id": report.pk, "kind": report.kind, "title": content.title, "organisation": settings.PLIMSOLL_ORGANISATION,
            "requested_by": report.requested_by.get_username(), "requested_at": _iso(report.created_at),
            "generated_at": _iso(generated_at), "generator": GENERATOR_VERSION,
        },
        "parameters": report.parameters,
        "engine": {"benchmark": BENCHMARK, "version": ENGINE_VERSION},
        **content.manifest,
        # The hash-chain heads the report used: per host, its snapshot's sha256 and the link it chains to.
        "chain_heads": chain_heads(s["id"] for s in content.manifest.get("snapshots", ())),
        "attachments": [
            {"name": item.name, "sha256": item.sha256, "size_bytes": item.size, "rows": item.rows} for item in content.pack
        ],
    }
    manifest_path = workdir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
                             encoding="utf-8")
    manifest_file = pack_file(manifest_path, "manifest.json",
                              "sha256 of every snapshot and evidence file cited, catalog revisions, engine version, parameters")
    pack = [*content.pack, manifest_file]

    progress(65, "Laying out the PDF")
    context = {
        **content.context,
        "report": report,
        "title": content.title,
        "subject": content.subject,
        "keywords": ", ".join(content.keywords),
        "runhead": content.runhead,
        "organisation": settings.PLIMSOLL_ORGANISATION,
        "generated_at": generated_at,
        "generated_by": requester_label(report),
        "generator_version": GENERATOR_VERSION,
        "engine_version": ENGINE_VERSION,
        "benchmark": BENCHMARK,
        "manifest_sha256": manifest_file.sha256,
        "pack": pack,
    }
    html = render_to_string(content.template, context)
    target = workdir / "report.pdf"
    pages = write_pdf(html, pack, target)
    return Rendered(target, pages, manifest_file.sha256, content.framework_revision)


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None
