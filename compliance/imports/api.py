"""POST /api/v1/imports/{trivy,cosign,docker-bench}/: a security manager or admin uploads a tool's output (multipart
`file`; `host` for a docker-bench log); GET a docker-bench run beside Plimsoll's verdicts; an image's evidence."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api_errors import ErrorSerializer, error_response
from common.roles import ReadAnyRoleManageByManagers
from compliance.administration.limits import readable_host_ids
from compliance.engine import Policy, PolicyError
from compliance.imports.bench import compare
from compliance.imports.choices import ImportKind
from compliance.imports.models import BenchRun, ImportedFile
from compliance.imports.parsers import DIGEST, ImportRejected
from compliance.imports.services import (
    NotPermitted,
    import_evidence,
    max_import_bytes,
    newest_scan,
    scan_verdict,
    signatures_of,
)
from compliance.models import SitePolicy


def describe(stored: ImportedFile) -> dict[str, Any]:
    """What an import holds: the file's identity and the images it speaks for."""
    body: dict[str, Any] = {
        "id": stored.pk, "kind": stored.kind, "sha256": stored.sha256, "size_bytes": stored.size_bytes,
        "original_name": stored.original_name, "imported_by": stored.imported_by.get_username(),
        "imported_at": stored.imported_at,
    }
    if stored.kind == ImportKind.TRIVY:
        scan = stored.scan
        body["scan"] = {"artifact_name": scan.artifact_name, "image_id": scan.image_id, "repo_digests": scan.repo_digests,
                        "scanned_at": scan.scanned_at, "counts": scan.counts}
    elif stored.kind == ImportKind.DOCKER_BENCH:
        run = stored.bench
        body["docker_bench"] = {"host": run.host_id, "hostname": run.host.hostname, "version": run.version,
                                "started_at": run.started_at, "ended_at": run.ended_at, "checks": run.checks,
                                "score": run.score, "results": len(run.results)}
    else:
        body["signatures"] = [{"digest": s.digest, "reference": s.reference, "identity": s.identity, "issuer": s.issuer,
                               "kind": s.kind} for s in stored.signatures.all()]
    return body


class ImportView(APIView):
    permission_classes = [ReadAnyRoleManageByManagers]
    parser_classes = [MultiPartParser]
    kind: str = ""

    @extend_schema(
        summary="Import a tool's output as evidence",
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"},
            "identity": {"type": "string", "description": "cosign: the --certificate-identity (or key) verified"},
            "issuer": {"type": "string", "description": "cosign: the --certificate-oidc-issuer verified"},
            "host": {"type": "string", "description": "docker-bench: the host it ran on (id or hostname)"},
        }, "required": ["file"]}},
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 403: ErrorSerializer,
                   413: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"field": "file", "reason": "required"})
        if upload.size > max_import_bytes():
            return error_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large",
                                  {"field": "file", "reason": f"the limit is {max_import_bytes()} bytes"})
        try:
            result = import_evidence(
                self.kind, upload.read(), by=request.user, name=upload.name or "",
                identity=str(request.data.get("identity", "")), issuer=str(request.data.get("issuer", "")),
                host=request.data.get("host", "") if self.kind == ImportKind.DOCKER_BENCH else None,
                request=request._request,
            )
        except ImportRejected as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"field": exc.field, "reason": exc.reason})
        except NotPermitted as exc:
            return error_response(status.HTTP_403_FORBIDDEN, "forbidden", str(exc))
        return Response(describe(result.file), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class TrivyImportView(ImportView):
    kind = ImportKind.TRIVY


class CosignImportView(ImportView):
    kind = ImportKind.COSIGN


class DockerBenchImportView(ImportView):
    kind = ImportKind.DOCKER_BENCH


def comparison_body(run: BenchRun) -> dict[str, Any]:
    """A docker-bench run beside Plimsoll's verdicts (compliance.imports.bench), as JSON."""
    found = compare(run)
    return {
        "import": run.source_id, "sha256": run.source.sha256, "host": run.host_id, "hostname": run.host.hostname,
        "version": run.version, "started_at": run.started_at,
        "snapshot": {"id": found.snapshot.pk, "sha256": found.snapshot.sha256} if found.snapshot else None,
        "snapshot_note": found.snapshot_note, "agree": found.agreeing, "differ": len(found.differing),
        "rows": [{"control": r.control, "title": r.title, "target_kind": r.target_kind, "target": r.target,
                  "docker_bench": r.bench or None, "plimsoll": r.plimsoll or None, "agree": r.agree,
                  "reasons": r.reasons} for r in found.rows],
    }


class DockerBenchComparisonView(APIView):
    """A docker-bench run's verdict beside Plimsoll's for each check and target, with the reason where they differ."""

    @extend_schema(summary="docker-bench beside Plimsoll for one imported run",
                   responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        runs = BenchRun.objects.select_related("source", "host")
        readable = readable_host_ids(request.user)
        if readable is not None:
            runs = runs.filter(host_id__in=sorted(readable))
        return Response(comparison_body(get_object_or_404(runs, source_id=pk)))


class ImageStatusView(APIView):
    """What imported evidence says of one image now: the newest Trivy scan's verdict on 4.4, and its signatures."""

    @extend_schema(
        summary="Imported evidence about one image",
        parameters=[
            OpenApiParameter("image_id", str, description="Docker's image id (sha256:...)"),
            OpenApiParameter("digest", str, many=True, description="a repo digest (sha256:...), repeatable"),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        image_id = request.query_params.get("image_id", "").strip()
        digests = [d.strip() for d in request.query_params.getlist("digest") if d.strip()]
        for name, values in (("image_id", [image_id] if image_id else []), ("digest", digests)):
            bad = next((v for v in values if not DIGEST.match(v)), None)
            if bad is not None:
                return error_response(status.HTTP_400_BAD_REQUEST, "invalid",
                                      {"field": name, "reason": f"{bad!r} is not sha256:<64 hex>"})
        if not image_id and not digests:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid",
                                  {"field": "image_id", "reason": "give image_id or digest"})
        try:
            policy = Policy.from_dict(SitePolicy.current_data())
        except PolicyError as exc:
            return error_response(status.HTTP_400_BAD_REQUEST, "invalid", {"field": "site policy", "reason": str(exc)})
        now = timezone.now()
        scan = newest_scan(image_id, digests, now)
        scan_body = None
        if scan is not None:
            decision = scan_verdict(scan, policy, now)
            scan_body = {"import": scan.source_id, "artifact_name": scan.artifact_name, "scanned_at": scan.scanned_at,
                         "verdict": decision.verdict, "reason": decision.reason, "counts": scan.counts}
        signed = signatures_of([*digests, *([image_id] if image_id else [])], now)
        return Response({
            "image_id": image_id, "digests": digests, "scan": scan_body,
            "signatures": [{"import": s.source_id, "digest": s.digest, "reference": s.reference, "identity": s.identity,
                            "issuer": s.issuer, "kind": s.kind} for s in signed],
        })
