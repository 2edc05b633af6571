"""Posture pages: every framework's summary, one framework's requirement tree, one requirement's drill-down."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL
from compliance.posture.api import parse_as_of, parse_bool
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import PostureError, compute_posture, judge_rows, requirement_results
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
        node = posture.requirement(ref_id)
        if node is None:
            raise Http404(f"{slug} has no requirement {ref_id}")
        page = Paginator(requirement_results(posture, node), DRILL_DOWN_PAGE).get_page(request.GET.get("page"))
        rows = judge_rows(posture.judge, page, {h.id: h for h in posture.hosts})
        checks = [CHECKS_BY_CONTROL[c] for c in node.controls if c in CHECKS_BY_CONTROL]
        return render(request, "posture/requirement.html", {
            "posture": posture, "framework": posture.framework, "node": node, "page": page, "rows": rows,
            "checks": checks, "slug": slug, "query": request.GET.urlencode(), "benchmark": BENCHMARK,
        })
