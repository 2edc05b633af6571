"""Fixtures for the report tests: a small judged estate, storage and signing keys in temporary directories, and
helpers that read a rendered PDF back (text, attachments, metadata)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest

from compliance.reports.models import Report
from tests.posture.conftest import T0, catalogs, judged_host  # noqa: F401, F811  (fixtures reused here)

AFTER = T0 + datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _report_dirs(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # One signing pair for the whole run: made once, like a site's.
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"
    settings.PLIMSOLL_REPORT_SIGNING_KEY = ""
    settings.PLIMSOLL_REPORT_SIGNING_CERT = ""
    settings.PLIMSOLL_ORGANISATION = "Example Shipping Ltd"


@pytest.fixture
def estate(judged_host: Callable[..., Any]) -> dict[str, Any]:  # noqa: F811
    """Two hosts in pci=cde and one outside, with failing, manual and error results on mapped controls."""
    web = judged_host("web-01", {"2.5": ["fail"], "5.5": ["fail@web-a", "pass@web-b", "fail@stopped"],
                                 "4.1": ["fail@web-a", "fail@web-b"], "1.1.3": ["manual"], "2.2": ["error"]},
                      labels={"pci": "cde"})
    db = judged_host("db-01", {"2.5": ["pass"], "5.5": ["fail@db-a"], "4.1": ["pass@db-a"], "1.1.3": ["pass"]},
                     labels={"pci": "cde"})
    office = judged_host("office-01", {"2.5": ["fail"], "5.5": ["fail@x"]}, labels={"env": "office"})
    return {"web": web, "db": db, "office": office}


def pdf_of(report: Report) -> bytes:
    report.refresh_from_db()
    assert report.status == Report.Status.DONE, (report.status, report.error)
    with report.file.open("rb") as handle:
        return handle.read()


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def attachments(data: bytes) -> dict[str, bytes]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return {name: contents[0] for name, contents in reader.attachments.items()}


@pytest.fixture
def make_report(django_capture_on_commit_callbacks: Any) -> Callable[..., Report]:
    """make_report(user, kind=..., ...) -> the report, rendered in-process as the queued task would."""
    from compliance.reports import services

    def make(user: Any, **params: Any) -> Report:
        with django_capture_on_commit_callbacks(execute=True):
            report = services.request_report(by=user, **params)
        report.refresh_from_db()
        return report

    return make
