"""HTML to PDF with WeasyPrint: one document (so the table of contents, bookmarks and "Page X of Y" come from
WeasyPrint's own counters), the evidence pack embedded as file attachments, metadata from the HTML head."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from weasyprint import CSS, HTML, Attachment

from compliance.reports.render.fetcher import STATIC_BASE, StaticOnlyFetcher

logger = logging.getLogger(__name__)
# WeasyPrint logs a line per page laid out at INFO: a 1,000-page report would bury the worker's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
PDF_CSS = Path(settings.BASE_DIR) / "templates" / "reports" / "pdf" / "report.css"


@dataclass(frozen=True)
class PackFile:
    """A file embedded in the PDF (findings.csv, posture.json, manifest.json)."""

    name: str
    path: Path
    description: str
    sha256: str
    size: int
    rows: int | None = None


def write_pdf(html: str, pack: list[PackFile], target: Path) -> int:
    """Lay out `html` and write it with `pack` attached; returns the number of pages."""
    fetcher = StaticOnlyFetcher()
    stylesheet = CSS(string=PDF_CSS.read_text(encoding="utf-8"), base_url=STATIC_BASE, url_fetcher=fetcher)
    document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).render(stylesheets=[stylesheet])
    pages = len(document.pages)
    handles = [item.path.open("rb") for item in pack]
    try:
        attachments = [
            Attachment(file_obj=handle, name=item.name, description=item.description, url_fetcher=fetcher,
                       relationship="Data" if item.name != "manifest.json" else "Supplement")
            for item, handle in zip(pack, handles, strict=True)
        ]
        document.write_pdf(target, attachments=attachments)
    finally:
        for handle in handles:
            handle.close()
    if fetcher.refused:
        logger.warning("report layout refused %d URL(s), first %s", len(fetcher.refused), fetcher.refused[0])
    return pages
