"""Every page names a framework with one helper (no doubled word), and no HTML page template keeps what a
Content-Security-Policy without 'unsafe-inline' blocks: style attributes, inline scripts, on* handlers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

GDPR = "General Data Protection Regulation (EU) 2016/679"
DOUBLED = "Regulation Regulation"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
# WeasyPrint renders these to PDF: no browser, no CSP.
PDF_TEMPLATES = TEMPLATES / "reports" / "pdf"


@pytest.mark.parametrize("path", [
    "/frameworks/", "/frameworks/gdpr/", "/frameworks/cis-docker-1.6.0/5.4/", "/frameworks/gdpr/32/",
    "/posture/", "/posture/gdpr/", "/",
])
def test_it_names_gdpr_once(path, catalogs, bob, client_for):
    response = client_for(bob).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert DOUBLED not in html
    assert GDPR in html


def test_the_recommendation_page_names_the_frameworks_it_maps_to_once(catalogs, bob, client_for):
    html = client_for(bob).get("/controls/5.4/").content.decode()
    assert DOUBLED not in html
    assert "CIS Docker Benchmark" in html


def _page_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html") if PDF_TEMPLATES not in p.parents)


@pytest.mark.parametrize("template", _page_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_page_template_needs_unsafe_inline(template):
    text = template.read_text()
    assert not re.search(r"\sstyle\s*=", text), "a style attribute: use a class in plimsoll.css"
    assert not re.search(r"<style[\s>]", text), "a <style> element: move it to plimsoll.css"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "an inline <script>: move it to a static file"
    assert not re.search(r"\son[a-z]+\s*=", text), "an on* handler: bind it in a static script"


def test_the_framework_tree_indents_by_class(catalogs, bob, client_for):
    html = client_for(bob).get("/frameworks/pci-dss-4.0/").content.decode()
    depths = set(re.findall(r'<td class="depth-(\d)">', html))
    assert {"1", "2"} <= depths
    assert "style=" not in html
