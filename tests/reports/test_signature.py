"""The PDF carries a PAdES signature that pyHanko validates; one changed byte breaks it, and verify_report says why."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from compliance.reports.signing import _outside_event_loop, check_signature, signing_pair
from tests.reports.conftest import pdf_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(alice, carol, make_report):  # type: ignore[no-untyped-def]
    start = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    return make_report(carol, kind="exceptions", period_start=start, period_end=timezone.now().date().isoformat())


def test_it_signs_so_that_pyhanko_validates_the_whole_file(register):
    data = pdf_of(register)
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_pair().cert))])
    # pyHanko validates through asyncio.run(): outside any loop a browser test of this worker left running.
    status = _outside_event_loop(validate_pdf_signature, signature, context)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert check_signature(data).ok
    assert hashlib.sha256(data).hexdigest() == register.sha256 and len(data) == register.size_bytes


def test_verify_report_accepts_the_file_as_stored(register, tmp_path):
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf_of(register))
    out = io.StringIO()
    call_command("verify_report", str(path), stdout=out)
    assert f"OK: report {register.pk} is intact" in out.getvalue() and register.sha256 in out.getvalue()


@pytest.mark.parametrize("where", [0.3, 0.5, 0.8])
def test_one_changed_byte_fails_validation_and_verify_report(register, tmp_path, where):
    data = bytearray(pdf_of(register))
    data[int(len(data) * where)] ^= 0x01
    assert not check_signature(bytes(data)).ok
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="signature|record"):
        call_command("verify_report", str(path), stdout=io.StringIO())


def test_verify_report_refuses_an_unsigned_or_unknown_file(register, tmp_path):
    unsigned = tmp_path / "plain.pdf"
    from weasyprint import HTML
    unsigned.write_bytes(HTML(string="<p>Not a report</p>").write_pdf())
    with pytest.raises(CommandError, match="signature"):
        call_command("verify_report", str(unsigned), stdout=io.StringIO())
    # Signed by this site but not a stored report (the record was never made): found by its sha256 or refused.
    from compliance.reports.signing import sign_pdf
    signed = tmp_path / "signed.pdf"
    sign_pdf(unsigned, signed)
    with pytest.raises(CommandError, match="record: no stored report"):
        call_command("verify_report", str(signed), stdout=io.StringIO())


def test_the_generated_pair_is_made_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    first = signing_pair()
    key = first.key.read_bytes()
    assert signing_pair().key.read_bytes() == key
    assert oct(first.key.stat().st_mode & 0o777) == "0o600"


def test_the_standard_validator_reports_it_intact_and_a_changed_byte_broken(register, tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    cli = shutil.which("pyhanko") or str(Path(sys.executable).parent / "pyhanko")
    data = pdf_of(register)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    middle = len(data) // 3
    bad.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
    command = [cli, "sign", "validate", "--trust-replace", "--trust", str(signing_pair().cert)]
    intact = subprocess.run([*command, "--pretty-print", str(good)], capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "cryptographically sound" in intact.stdout
    broken = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0 and "INVALID" in broken.stdout
