"""Fixtures for the evidence tests: a small CIS and PCI catalog, hosts, files of each kind, and storage in tmp_path."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from frameworks.models import Framework, Requirement
from inventory.models import Host

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _framework(slug: str, refs: list[str]) -> Framework:
    framework = Framework.objects.create(
        urn=f"urn:plimsoll:framework:{slug}", slug=slug, revision=1, name=slug, version="1", publisher="test", sha256="0" * 64
    )
    for order, ref_id in enumerate(refs):
        Requirement.objects.create(
            framework=framework, ref_id=ref_id, depth=1, order=order, section=ref_id.split(".")[0], kind="recommendation",
            assessable=True, title=f"Requirement {ref_id}",
        )
    return framework


@pytest.fixture
def catalogs(db: None) -> dict[str, Framework]:
    return {"cis": _framework("cis-docker-1.6.0", ["4.1", "5.5", "1.1.3"]), "pci": _framework("pci-dss-4.0", ["2.2.1", "10.2.1"])}


@pytest.fixture
def web(db: None) -> Host:
    return Host.objects.create(machine_id="m-web", hostname="web01", labels={"env": "prod", "pci": "cde"})


@pytest.fixture
def build(db: None) -> Host:
    return Host.objects.create(machine_id="m-build", hostname="build01", labels={"env": "dev"})


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_of(api_client_for: Callable[[User], Any]) -> Callable[[User], Any]:
    """One API client per user for the test (a user has one token)."""
    clients: dict[int, Any] = {}

    def get(user: User) -> Any:
        if user.pk not in clients:
            clients[user.pk] = api_client_for(user)
        return clients[user.pk]

    return get
