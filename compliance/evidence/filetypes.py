"""Upload checks for evidence files: a size limit, and a type decided by the bytes, never by the name.

The allow-list is PDF, PNG, JPEG, UTF-8 plain text and CSV, JSON, and ZIP-based office documents (OOXML, ODF). The
file's extension must agree with what its content is, so a `.pdf` that is really HTML (or a PNG) is refused.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.conf import settings

SNIFF_BYTES = 8192
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<object", b"<meta")
_OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {".docx"}),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {".xlsx"}),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", {".pptx"}),
}
_ODF = {
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
    "application/vnd.oasis.opendocument.presentation": {".odp"},
}


class UploadRejected(ValueError):
    """An evidence file that is too big, of a type not allowed, or whose content does not match its name."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    size: int
    sha256: str


def max_upload_bytes() -> int:
    return int(getattr(settings, "PLIMSOLL_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))


def _detect(head: bytes, fh: IO[bytes]) -> tuple[str, set[str]] | None:
    """(content type, extensions it may carry) for allowed content, else None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf", {".pdf"}
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", {".png"}
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", {".jpg", ".jpeg"}
    if head.startswith(b"PK\x03\x04"):
        return _detect_zip(fh)
    return _detect_text(head, fh)


def _detect_zip(fh: IO[bytes]) -> tuple[str, set[str]] | None:
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype in _ODF:
                    return mimetype, _ODF[mimetype]
            if "[Content_Types].xml" in names:
                for prefix, (content_type, extensions) in _OOXML.items():
                    if any(name.startswith(prefix) for name in names):
                        return content_type, extensions
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def _detect_text(head: bytes, fh: IO[bytes]) -> tuple[str, set[str]] | None:
    if b"\x00" in head:
        return None
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # Browsers sniff markup anywhere near the start; text that holds any is refused, not just text that starts with it.
    if any(marker in lowered for marker in _MARKUP):
        return None
    fh.seek(0)
    data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        json.loads(text)
    except ValueError:
        return "text/plain", {".txt", ".csv", ".log", ".md"}
    return "application/json", {".json"}


def check_upload(fh: IO[bytes], name: str, size: int | None = None) -> CheckedFile:
    """Check size and content; returns the detected type and the sha256. Raises UploadRejected."""
    limit = max_upload_bytes()
    if size is not None and size > limit:
        raise UploadRejected("too_large", f"the file is {size} bytes; the limit is {limit} (PLIMSOLL_EVIDENCE_MAX_BYTES)")
    digest = hashlib.sha256()
    total = 0
    fh.seek(0)
    while chunk := fh.read(1024 * 1024):
        total += len(chunk)
        if total > limit:
            raise UploadRejected("too_large", f"the file exceeds the limit of {limit} bytes (PLIMSOLL_EVIDENCE_MAX_BYTES)")
        digest.update(chunk)
    if total == 0:
        raise UploadRejected("empty", "the file is empty")
    fh.seek(0)
    head = fh.read(SNIFF_BYTES)
    detected = _detect(head, fh)
    fh.seek(0)
    if detected is None:
        raise UploadRejected(
            "unsupported_type", "the content is not an allowed type (PDF, PNG, JPEG, text, CSV, JSON or an office document)"
        )
    content_type, extensions = detected
    extension = PurePath(name).suffix.lower()
    if extension not in extensions:
        raise UploadRejected(
            "type_mismatch", f"the content is {content_type}, which does not match the name {PurePath(name).name!r}"
        )
    return CheckedFile(content_type=content_type, extension=extension, size=total, sha256=digest.hexdigest())
