"""PAdES signatures of reports (pyHanko), with the site's key and certificate.

PLIMSOLL_REPORT_SIGNING_KEY and PLIMSOLL_REPORT_SIGNING_CERT name PEM files. Unset (the embedded mode), a self-signed
pair is generated once into VAR_DIR/report-signing/ and reused; its certificate is the trust root `verify_report`
checks against, so keep that directory with the database.
"""

from __future__ import annotations

import asyncio
import datetime
import fcntl
import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNATURE_FIELD = "PlimsollReportSignature"
CERT_YEARS = 10


@dataclass(frozen=True)
class SigningPair:
    key: Path
    cert: Path


def signing_pair() -> SigningPair:
    """The configured key and certificate, or the generated pair (made on first use)."""
    key, cert = settings.PLIMSOLL_REPORT_SIGNING_KEY, settings.PLIMSOLL_REPORT_SIGNING_CERT
    if key or cert:
        if not (key and cert):
            raise ImproperlyConfigured("set both PLIMSOLL_REPORT_SIGNING_KEY and PLIMSOLL_REPORT_SIGNING_CERT, or neither")
        pair = SigningPair(Path(key), Path(cert))
        for path in (pair.key, pair.cert):
            if not path.is_file():
                raise ImproperlyConfigured(f"report signing file not found: {path}")
        return pair
    return _generated_pair(Path(settings.VAR_DIR) / "report-signing")


def _generated_pair(directory: Path) -> SigningPair:
    pair = SigningPair(directory / "key.pem", directory / "cert.pem")
    if pair.key.is_file() and pair.cert.is_file():
        return pair
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Two workers starting together must not make two pairs: one makes it under the lock, the other reuses it.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (pair.key.is_file() and pair.cert.is_file()):
            key_pem, cert_pem = _self_signed(settings.PLIMSOLL_ORGANISATION)
            _write(pair.key, key_pem, 0o600)
            _write(pair.cert, cert_pem, 0o644)
    return pair


def _write(path: Path, data: bytes, mode: int) -> None:
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


def _self_signed(organisation: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "Plimsoll report signing"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, (organisation or "Plimsoll")[:64]),
    ])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * CERT_YEARS))
        # A self-signed certificate is its own trust root, so it is marked as one.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@lru_cache(maxsize=4)
def _signer(key: str, cert: str, stamp: float) -> object:
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load(key, cert)
    if signer is None:
        raise ImproperlyConfigured(f"cannot load the report signing key {key} with certificate {cert}")
    return signer


T = TypeVar("T")


def _outside_event_loop(call: Callable[..., T], *args: Any) -> T:
    """pyHanko signs and validates with asyncio.run(), which refuses to run inside a running event loop (an async
    server, or a thread driven by one such as Playwright's): there, it runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args).result()


def sign_pdf(source: Path, target: Path) -> None:
    """Add a PAdES (B-B) signature over the whole file, as an incremental update."""
    _outside_event_loop(_sign_pdf, source, target)


def _sign_pdf(source: Path, target: Path) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    pair = signing_pair()
    signer = _signer(str(pair.key), str(pair.cert), pair.key.stat().st_mtime)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason="Plimsoll report: generated and sealed", name=settings.PLIMSOLL_ORGANISATION,
    )
    with source.open("rb") as infile, target.open("wb") as outfile:
        writer = IncrementalPdfFileWriter(infile, strict=False)
        signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=outfile)


@dataclass(frozen=True)
class SignatureCheck:
    """What a validator says of a report's signature."""

    ok: bool
    intact: bool
    valid: bool
    trusted: bool
    whole_file: bool
    signer: str
    signed_at: str
    reason: str


def check_signature(data: bytes) -> SignatureCheck:
    """Validate the report signature against the site certificate: intact, valid, trusted, and covering the file."""
    return _outside_event_loop(_check_signature, data)


def _check_signature(data: bytes) -> SignatureCheck:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # any parse failure means the file is not a report we signed
        return SignatureCheck(False, False, False, False, False, "", "", f"not a readable PDF: {exc}")
    if not signatures:
        return SignatureCheck(False, False, False, False, False, "", "", "the PDF carries no signature")
    if len(signatures) > 1:
        return SignatureCheck(False, False, False, False, False, "", "", "the PDF carries more than one signature")
    pair = signing_pair()
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(pair.cert))], allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], context)
    except Exception as exc:
        return SignatureCheck(False, False, False, False, False, "", "", f"the signature cannot be validated: {exc}")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else ""
    signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else ""
    if not status.intact:
        reason = "the signed bytes were changed after signing (digest mismatch)"
    elif not status.valid:
        reason = "the signature does not verify"
    elif not status.trusted:
        reason = "the signing certificate is not this site's report signing certificate"
    elif not whole:
        reason = "the signature does not cover the whole file (something was appended after signing)"
    else:
        reason = "intact, valid, trusted and covering the whole file"
    ok = status.intact and status.valid and status.trusted and whole
    return SignatureCheck(ok, status.intact, status.valid, status.trusted, whole, signer, signed_at, reason)
