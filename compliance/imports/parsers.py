"""Read the documented JSON outputs of scanners and signers into plain facts; a malformed file names the field.

- Trivy: `trivy image --format json` (SchemaVersion 2): CreatedAt, ArtifactName, Metadata.ImageID/RepoTags/
  RepoDigests, Results[].Vulnerabilities[] with Severity and FixedVersion.
- docker-bench-security: the `-l FILE` JSON log (FILE.json): dockerbenchsecurity, start, tests[].results[] with id,
  result (PASS, WARN, INFO, NOTE), details and items.
- Cosign: `cosign verify --output json IMAGE` prints a JSON array of verified signature payloads (the simple signing
  format: critical.image."docker-manifest-digest", critical.identity."docker-reference", optional.Subject/Issuer or
  the Fulcio certificate extensions under optional); `cosign verify-attestation` prints one JSON object per line
  with a base64 DSSE `payload` holding an in-toto statement whose subject[].digest.sha256 names the image.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Fulcio certificate extensions cosign copies into the payload's `optional` (issuer and subject of the signer).
FULCIO_ISSUER = ("Issuer", "1.3.6.1.4.1.57264.1.1", "1.3.6.1.4.1.57264.1.8")
FULCIO_SUBJECT = ("Subject", "subject")


class ImportRejected(ValueError):
    """A file that is not the tool's documented output: `field` is the JSON path, `reason` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def load_json(data: bytes) -> Any:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportRejected("file", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportRejected("file", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    no_nul(doc, "$")
    return doc


def no_nul(value: Any, path: str) -> None:
    """Refuse a NUL character anywhere: no tool writes one, and the database cannot store it in text."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ImportRejected(path, "contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(key, path)
            no_nul(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            no_nul(item, f"{path}[{i}]")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportRejected(path, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImportRejected(path, f"expected an array, got {type(value).__name__}")
    return value


def _strings(value: Any, path: str) -> list[str]:
    items = _list(value if value is not None else [], path)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ImportRejected(f"{path}[{i}]", "expected a string")
    return items


def _moment(value: Any, path: str) -> datetime.datetime:
    if not isinstance(value, str):
        raise ImportRejected(path, "expected an RFC 3339 time")
    text = re.sub(r"\.(\d{6})\d+", r".\1", value.replace("Z", "+00:00"))  # Go prints nanoseconds
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ImportRejected(path, f"{value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ImportRejected(path, "the time has no offset")
    return moment


def digest_of(reference: str) -> str | None:
    """The sha256 digest of `name@sha256:...`, or None."""
    _, _, digest = reference.rpartition("@")
    return digest if DIGEST.match(digest) else None


@dataclass
class TrivyScan:
    artifact_name: str
    scanned_at: datetime.datetime
    image_id: str
    repo_tags: list[str]
    repo_digests: list[str]
    # severity -> {"total": n, "fixable": n}
    counts: dict[str, dict[str, int]]
    fixable: list[dict[str, str]] = field(default_factory=list)

    @property
    def digests(self) -> list[str]:
        return sorted({d for d in map(digest_of, self.repo_digests) if d})


def parse_trivy(doc: Any) -> TrivyScan:
    doc = _object(doc, "$")
    if doc.get("SchemaVersion") != 2:
        raise ImportRejected("SchemaVersion", f"expected 2 (trivy image --format json), got {doc.get('SchemaVersion')!r}")
    if doc.get("ArtifactType") not in (None, "container_image"):
        raise ImportRejected("ArtifactType", f"a scan of a container image is needed, not {doc['ArtifactType']!r}")
    name = doc.get("ArtifactName")
    if not isinstance(name, str) or not name:
        raise ImportRejected("ArtifactName", "expected the scanned image's name")
    scanned_at = _moment(doc.get("CreatedAt"), "CreatedAt")
    metadata = _object(doc.get("Metadata"), "Metadata")
    image_id = metadata.get("ImageID")
    if not isinstance(image_id, str) or not DIGEST.match(image_id):
        raise ImportRejected("Metadata.ImageID", "expected the image id (sha256:<64 hex>)")
    tags = _strings(metadata.get("RepoTags"), "Metadata.RepoTags")
    digests = _strings(metadata.get("RepoDigests"), "Metadata.RepoDigests")
    for i, reference in enumerate(digests):
        if digest_of(reference) is None:
            raise ImportRejected(f"Metadata.RepoDigests[{i}]", f"{reference!r} is not name@sha256:<64 hex>")
    totals: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    findings: list[dict[str, str]] = []
    for r, result in enumerate(_list(doc.get("Results") if doc.get("Results") is not None else [], "Results")):
        result = _object(result, f"Results[{r}]")
        vulns = result.get("Vulnerabilities")
        for v, vuln in enumerate(_list(vulns if vulns is not None else [], f"Results[{r}].Vulnerabilities")):
            path = f"Results[{r}].Vulnerabilities[{v}]"
            vuln = _object(vuln, path)
            severity = vuln.get("Severity")
            if severity not in SEVERITIES:
                raise ImportRejected(f"{path}.Severity", f"expected one of {', '.join(SEVERITIES)}, got {severity!r}")
            if not isinstance(vuln.get("VulnerabilityID"), str):
                raise ImportRejected(f"{path}.VulnerabilityID", "expected the vulnerability id")
            fixed = vuln.get("FixedVersion") or ""
            if not isinstance(fixed, str):
                raise ImportRejected(f"{path}.FixedVersion", "expected a version string")
            totals[severity] += 1
            if fixed:
                fixable[severity] += 1
                findings.append({"id": vuln["VulnerabilityID"], "package": str(vuln.get("PkgName", "")),
                                 "installed": str(vuln.get("InstalledVersion", "")), "fixed": fixed, "severity": severity})
    counts = {s: {"total": totals[s], "fixable": fixable[s]} for s in SEVERITIES}
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f["severity"]], f["id"], f["package"]))
    return TrivyScan(name, scanned_at, image_id, tags, digests, counts, findings)


@dataclass
class Signature:
    """One verified signature or attestation of an image digest, with who signed it."""

    digest: str
    reference: str
    identity: str
    issuer: str
    kind: str  # "signature" or the attestation's predicate type


def _fulcio(optional: dict[str, Any], names: tuple[str, ...]) -> str:
    return next((str(optional[n]) for n in names if optional.get(n)), "")


def _signature(item: Any, path: str) -> Signature:
    item = _object(item, path)
    critical = _object(item.get("critical"), f"{path}.critical")
    image = _object(critical.get("image"), f"{path}.critical.image")
    digest = image.get("docker-manifest-digest")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise ImportRejected(f"{path}.critical.image.docker-manifest-digest", "expected sha256:<64 hex>")
    identity = _object(critical.get("identity"), f"{path}.critical.identity")
    reference = identity.get("docker-reference")
    if not isinstance(reference, str):
        raise ImportRejected(f"{path}.critical.identity.docker-reference", "expected the signed image's name")
    optional = item.get("optional") or {}
    optional = _object(optional, f"{path}.optional")
    return Signature(digest, reference, _fulcio(optional, FULCIO_SUBJECT), _fulcio(optional, FULCIO_ISSUER), "signature")


def _attestation(item: Any, path: str) -> list[Signature]:
    item = _object(item, path)
    payload = item.get("payload")
    if not isinstance(payload, str):
        raise ImportRejected(f"{path}.payload", "expected the base64 DSSE payload")
    try:
        statement = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        raise ImportRejected(f"{path}.payload", "not a base64 JSON in-toto statement") from None
    statement = _object(statement, f"{path}.payload")
    no_nul(statement, f"{path}.payload")
    kind = statement.get("predicateType")
    if not isinstance(kind, str) or not kind:
        raise ImportRejected(f"{path}.payload.predicateType", "expected the predicate type")
    out = []
    for i, subject in enumerate(_list(statement.get("subject"), f"{path}.payload.subject")):
        subject = _object(subject, f"{path}.payload.subject[{i}]")
        sha = _object(subject.get("digest"), f"{path}.payload.subject[{i}].digest").get("sha256")
        if not isinstance(sha, str) or not DIGEST.match(f"sha256:{sha}"):
            raise ImportRejected(f"{path}.payload.subject[{i}].digest.sha256", "expected 64 hex digits")
        out.append(Signature(f"sha256:{sha}", str(subject.get("name", "")), "", "", kind))
    return out


def parse_cosign(data: bytes, identity: str = "", issuer: str = "") -> list[Signature]:
    """`cosign verify --output json` (an array) or `cosign verify-attestation` (JSON lines). `identity` and `issuer`
    are the --certificate-identity and --certificate-oidc-issuer the verification required, when the payload does not
    carry them (key-based signatures, attestations)."""
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    stripped = text.strip()
    if not stripped:
        raise ImportRejected("file", "empty: cosign printed no verified signature")
    signatures: list[Signature] = []
    if stripped.startswith("["):
        items = _list(load_json(stripped.encode()), "$")
        if not items:
            raise ImportRejected("$", "no verified signature in the array")
        signatures = [_signature(item, f"$[{i}]") for i, item in enumerate(items)]
    else:
        for n, line in enumerate(stripped.splitlines()):
            if line.strip():
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ImportRejected(f"line {n + 1}", f"not valid JSON: {exc.msg}") from None
                no_nul(item, f"line {n + 1}")
                signatures.extend(_attestation(item, f"line {n + 1}"))
    no_nul(identity, "identity")
    no_nul(issuer, "issuer")
    for s in signatures:
        s.identity = s.identity or identity
        s.issuer = s.issuer or issuer
    return signatures


# docker-bench-security `-l FILE` writes FILE.json (functions/output_lib.sh): {"dockerbenchsecurity": version,
# "start": epoch, "tests": [{"id", "desc", "results": [{"id", "desc", "result", "details"?, "items"?,
# "remediation"?, "remediation-impact"?}]}], "checks": n, "score": n, "end": epoch}.
BENCH_RESULTS = ("PASS", "WARN", "INFO", "NOTE")
CHECK_ID = re.compile(r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$")  # 5.10, and the community checks' C.5.3.1


@dataclass
class BenchLog:
    version: str
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    checks: int | None
    score: int | None
    results: list[dict[str, Any]]


def _epoch(value: Any, path: str, required: bool) -> datetime.datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**33:
        raise ImportRejected(path, "expected the Unix time docker-bench writes (seconds)")
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def _integer(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**31 - 1:
        raise ImportRejected(path, "expected an integer")
    return value


def _text(item: dict[str, Any], key: str, path: str, required: bool = False) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ImportRejected(f"{path}.{key}", "expected a string" if not required else "expected a non-empty string")
    return value


def parse_docker_bench(doc: Any) -> BenchLog:
    doc = _object(doc, "$")
    version = doc.get("dockerbenchsecurity")
    if not isinstance(version, str) or not version.strip():
        raise ImportRejected("dockerbenchsecurity", "expected the docker-bench-security version (a -l JSON log)")
    started_at = _epoch(doc.get("start"), "start", required=True)
    ended_at = _epoch(doc.get("end"), "end", required=False)
    if ended_at is not None and started_at is not None and ended_at < started_at:
        raise ImportRejected("end", "before start")
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s, section in enumerate(_list(doc.get("tests"), "tests")):
        path = f"tests[{s}]"
        section = _object(section, path)
        _text(section, "id", path, required=True)
        for r, entry in enumerate(_list(section.get("results"), f"{path}.results")):
            where = f"{path}.results[{r}]"
            entry = _object(entry, where)
            check = _text(entry, "id", where, required=True)
            if not CHECK_ID.match(check):
                raise ImportRejected(f"{where}.id", f"{check!r} is not a check id such as 5.10")
            if "result" not in entry:
                continue  # a heading (a subsection) without a verdict of its own
            result = entry.get("result")
            if result not in BENCH_RESULTS:
                raise ImportRejected(f"{where}.result", f"expected one of {', '.join(BENCH_RESULTS)}, got {result!r}")
            if check in seen:
                raise ImportRejected(f"{where}.id", f"check {check} appears twice")
            seen.add(check)
            items = _strings(entry.get("items"), f"{where}.items")
            results.append({
                "id": check, "desc": _text(entry, "desc", where), "result": result,
                "details": _text(entry, "details", where), "items": [i for i in items if i != "(truncated)"],
                "truncated": "(truncated)" in items, "remediation": _text(entry, "remediation", where),
            })
    if not results:
        raise ImportRejected("tests", "no check result in the log")
    if started_at is None:
        raise ImportRejected("start", "required")
    return BenchLog(version.strip()[:32], started_at, ended_at, _integer(doc.get("checks"), "checks"),
                    _integer(doc.get("score"), "score"), results)
