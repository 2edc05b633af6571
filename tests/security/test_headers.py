"""Content-Security-Policy and Permissions-Policy on every page and API answer; no inline script or style in pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
EXPECTED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}


def policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    return {name: set(values) for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/no-such-page/"])
def test_anonymous_pages_carry_the_policy(path):
    response = Client().get(path)
    assert policy(response) == EXPECTED
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/", "/posture/", "/audit/", "/administration/", "/reports/"])
def test_signed_in_pages_carry_the_policy(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code in (200, 302), path
    assert policy(response) == EXPECTED and response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/api/v1/hosts/", "/api/v1/audit-log/", "/api/v1/no-such-route/", "/api/v1/schema/"])
def test_api_answers_carry_the_policy(api_client_for, alice, path):
    response = api_client_for(alice).get(path)
    assert policy(response) == EXPECTED and response["Permissions-Policy"]
    assert Client().get(path, HTTP_ACCEPT="application/json")["Content-Security-Policy"]  # 401s too


def test_the_browsable_api_allows_only_drfs_fixed_styles_by_hash(signed_in):
    response = signed_in.get("/api/v1/hosts/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    got = policy(response)
    extra = got.pop("style-src") - {"'self'"}
    assert got == {k: v for k, v in EXPECTED.items() if k != "style-src"}
    assert "'unsafe-hashes'" in extra and all(s.startswith("'sha256-") for s in extra - {"'unsafe-hashes'"})
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_swagger_ui_loads_its_script_from_the_site_and_allows_one_style_block():
    page = Client().get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"<script>\s*\S", html)  # every script has a src: the split view
    got = policy(page)
    assert got.pop("style-src") == {"'self'", *re.findall(r"'sha256-[^']+'", page["Content-Security-Policy"])}
    assert got == {k: v for k, v in EXPECTED.items() if k != "style-src"}
    script = Client().get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_redoc_alone_allows_inline_styles_and_blob_workers():
    page = Client().get("/api/v1/redoc/")
    got = policy(page)
    assert got.pop("style-src") == {"'self'", "'unsafe-inline'"} and got.pop("worker-src") == {"'self'", "blob:"}
    assert got == {k: v for k, v in EXPECTED.items() if k != "style-src"}
    assert not re.search(r"<script>\s*\S", page.content.decode())  # scripts stay 'self' only


def test_no_page_template_has_an_inline_script_style_or_handler():
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        if template.is_relative_to(TEMPLATES / "reports" / "pdf"):
            continue  # rendered to PDF by WeasyPrint, never served to a browser
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
            offenders += [f"{template.relative_to(TEMPLATES)}: {m.group(0).strip()}" for m in re.finditer(pattern, text)]
    assert offenders == []
