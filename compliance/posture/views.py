"""Posture pages: every framework's summary, one framework's requirement tree, one requirement's drill-down."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.engine import CHECKS_BY_CONTROL
from compliance.evidence.services import valid_evidence
from compliance.exceptions.services import active_exceptions
from compliance.models import Result
from compliance.posture.api import parse_as_of, parse_bool
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import PostureError, compute_posture, container_images
from frameworks.models import Framework

DRILL_DOWN_PAGE = 100


def _params(request: HttpRequest) -> dict[str, Any]:
    return {
        "scope": request.GET.get("scope", ""),
        "as_of": parse_as_of(request.GET.get("as_of")),
        "include_stopped": parse_bool(request.GET.get("include_stopped"), "include_stopped"),
    }


class PostureIndexView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        frameworks = Framework.objects.filter(is_current=True).order_by("name")
        latest = {}
        for record in PostureRecord.objects.filter(selector="").order_by("framework_slug", "-day"):
            latest.setdefault(record.framework_slug, record)
        rows = [{"framework": f, "record": latest.get(f.slug)} for f in frameworks]
        return render(request, "posture/index.html", {"rows": rows, "assessments": Assessment.objects.all()})


class FrameworkPostureView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        try:
            params = _params(request)
            posture = compute_posture(slug, **params)
        except PostureError as exc:
            if exc.field == "framework":
                raise Http404(exc.reason) from None
            return render(request, "posture/framework.html", {"error": exc, "slug": slug}, status=400)
        trend = PostureRecord.objects.filter(framework_slug=slug, selector=str(posture.selector)).order_by("-day")[:30]
        return render(request, "posture/framework.html", {
            "posture": posture, "framework": posture.framework, "summary": posture.summary, "slug": slug,
            "trend": list(reversed(trend)), "query": request.GET.urlencode(), "params": params,
        })


class RequirementPostureView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest, slug: str, ref_id: str) -> HttpResponse:
        try:
            params = _params(request)
            posture = compute_posture(slug, **params)
        except PostureError as exc:
            raise Http404(exc.reason) from None
        node = next((r for r in posture.requirements if r.ref_id == ref_id), None)
        if node is None:
            raise Http404(f"{slug} has no requirement {ref_id}")
        snapshot_ids = [h.snapshot_id for h in posture.hosts if h.snapshot_id]
        hosts = {h.id: h for h in posture.hosts}
        rows = Result.objects.filter(
            is_current=True, snapshot_id__in=snapshot_ids, control__in=node.controls, status__in=["fail", "manual", "error"]
        )
        if not posture.include_stopped:
            rows = rows.exclude(Q(target_kind="container") & ~Q(target_state="running"))
        rows = rows.select_related("host").order_by("control", "host__hostname", "target_kind", "target_name", "id")
        page = Paginator(rows, DRILL_DOWN_PAGE).get_page(request.GET.get("page"))
        at = params["as_of"] or timezone.now()
        exceptions = [e for e in active_exceptions(at) if e.control in node.controls]
        counted_ids, node_controls = set(node.evidence), set(node.controls)
        counted = [e for e in valid_evidence(at) if e.pk in counted_ids]
        # The container's image, for image-scoped exceptions: the same facts the counts were made from.
        images = container_images({r.snapshot_id for r in page}, {r.target_id for r in page})
        for result in page:
            host = hosts.get(result.host_id)
            image = images.get((result.snapshot_id, result.target_id))
            result.excepted_by = next(
                (e for e in exceptions if result.status == "fail" and e.covers(result, host, image)), None
            )
            result.attested_by = next(
                (e for e in counted if result.status == "manual" and e.covers_host(host)
                 and (result.control in e.cis_ref_ids or not e.cis_ref_ids & node_controls)), None
            )
        checks = [CHECKS_BY_CONTROL[c] for c in node.controls if c in CHECKS_BY_CONTROL]
        return render(request, "posture/requirement.html", {
            "posture": posture, "framework": posture.framework, "node": node, "page": page, "checks": checks,
            "slug": slug, "query": request.GET.urlencode(),
        })
