"""Posture pages: every framework's summary, one framework's requirement tree, one requirement's drill-down.

The tree and the drill-down export what they list (`?export=csv|xlsx`, with the same filters).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views import View

from common.exports import FORMATS, export_response
from common.roles import ReaderRequiredMixin, can_manage
from common.scope import SelectorError
from compliance.administration.limits import FrameworkNotAllowed, limits_for
from compliance.dashboard import charts
from compliance.dashboard.cache import cached_posture, fingerprint
from compliance.dashboard.drilldown import DRILL_STATUSES, DrillDown, DrillDownError, Filters
from compliance.dashboard.overview import covered_counts, share_of
from compliance.dashboard.tables import (
    DRILL_HEADER,
    TREE_HEADER,
    TREE_STATUSES,
    TreeFilterError,
    TreeFilters,
    drill_export_rows,
    tree_export_row,
    tree_groups,
    tree_rows,
)
from compliance.dashboard.trend import TrendPoint, live_point
from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL
from compliance.posture.api import parse_as_of, parse_bool
from compliance.posture.judge import Verdict
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import PostureError, TargetRow
from frameworks.models import Framework

DRILL_DOWN_PAGE = 100
TREND_DAYS = 90
POSTURE_PARAMS = ("scope", "as_of", "include_stopped")


def _params(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The posture parameters of the page, within what the account may read (403 outside its frameworks; its label
    scope ANDed with the one asked for)."""
    limits = limits_for(request.user)
    try:
        limits.check_framework(slug)
    except FrameworkNotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    try:
        scope = limits.scope_with(request.GET.get("scope", ""))
    except SelectorError as exc:
        raise PostureError("scope", str(exc)) from None
    return {
        "scope": scope,
        "as_of": parse_as_of(request.GET.get("as_of")),
        "include_stopped": parse_bool(request.GET.get("include_stopped"), "include_stopped"),
    }


def _query(request: HttpRequest, keep: tuple[str, ...] = POSTURE_PARAMS) -> str:
    """The query string of the parameters named, for links that carry the scope from page to page."""
    query = request.GET.copy()
    for key in list(query):
        if key not in keep:
            del query[key]
    return query.urlencode()


def _export_format(request: HttpRequest) -> str | None:
    fmt = request.GET.get("export")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        raise PostureError("export", f"one of {', '.join(FORMATS)}, not {fmt[:20]!r}")
    return fmt


class PostureIndexView(ReaderRequiredMixin, View):
    """Every current framework's posture now over all hosts, with its chart; the named assessments below."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = []
        key = fingerprint()
        limits = limits_for(request.user)
        for framework in Framework.objects.in_force().order_by("name"):
            if not limits.allows(framework.slug):
                continue
            summary = cached_posture(framework.slug, scope=limits.scope, key=key).summary
            rows.append({
                "framework": framework,
                "summary": summary,
                "share": share_of(summary),
                "chart": charts.status_bar(covered_counts(summary), f"{framework.name}: covered requirements by status"),
            })
        superseded = [f for f in Framework.objects.superseded().order_by("name") if limits.allows(f.slug)]
        return render(request, "posture/index.html", {"rows": rows, "assessments": Assessment.objects.all(),
                                                       "superseded": superseded})


def _trend(slug: str, selector: str, posture_summary: Any, as_of: datetime.datetime | None) -> charts.Chart:
    """The daily records of this scope over the last TREND_DAYS days, ending with the posture on the page."""
    end = (as_of or timezone.now()).astimezone(datetime.UTC).date()
    # An as-of in year 1 has no 90 days before it.
    start = max(end, datetime.date.min + datetime.timedelta(days=TREND_DAYS)) - datetime.timedelta(days=TREND_DAYS)
    records = PostureRecord.objects.filter(
        framework_slug=slug, selector=selector, day__gt=start, day__lt=end
    ).order_by("day").only("day", "summary")
    points = [TrendPoint(r.day, r.summary) for r in records]
    points.append(live_point(end, posture_summary))
    return charts.trend(points, f"Requirements over the last {TREND_DAYS} days")


class FrameworkPostureView(ReaderRequiredMixin, View):
    template = "posture/framework.html"

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        context: dict[str, Any] = {
            "slug": slug, "statuses": TREE_STATUSES, "query": _query(request),
            "filter_query": _query(request, (*POSTURE_PARAMS, "status", "q")),
        }
        try:
            filters = TreeFilters.parse(request.GET)
            context["filters"] = filters
            fmt = _export_format(request)
            posture = cached_posture(slug, **_params(request, slug))
        except TreeFilterError as exc:
            return render(request, self.template, {**context, "error": exc, "filters": TreeFilters()}, status=400)
        except PostureError as exc:
            if exc.field == "framework":
                raise Http404(exc.reason) from None
            return render(request, self.template, {**context, "error": exc}, status=400)
        groups = tree_groups(posture, filters)
        if fmt:
            title = f"{posture.framework.name} posture"
            return export_response(fmt, f"posture-{slug}", TREE_HEADER, map(tree_export_row, tree_rows(groups)), title)
        summary = posture.summary
        context.update({
            "posture": posture, "framework": posture.framework, "summary": summary, "groups": groups,
            "share": share_of(summary), "row_count": sum(len(g.rows) for g in groups),
            "chart": charts.status_bar(covered_counts(summary), f"{posture.framework.name}: covered requirements by status"),
            "trend": _trend(slug, str(posture.selector), summary, posture.as_of),
        })
        return render(request, self.template, context)


class RequirementPostureView(ReaderRequiredMixin, View):
    template = "posture/requirement.html"

    def get(self, request: HttpRequest, slug: str, ref_id: str) -> HttpResponse:
        try:
            posture = cached_posture(slug, **_params(request, slug))
        except PostureError as exc:
            raise Http404(exc.reason) from None
        node = posture.requirement(ref_id)
        if node is None:
            raise Http404(f"{slug} has no requirement {ref_id}")
        checks = [CHECKS_BY_CONTROL[c] for c in node.controls if c in CHECKS_BY_CONTROL]
        context: dict[str, Any] = {
            "posture": posture, "framework": posture.framework, "node": node, "checks": checks, "slug": slug,
            "benchmark": BENCHMARK, "statuses": DRILL_STATUSES, "query": _query(request),
            "filter_query": _query(request, (*POSTURE_PARAMS, "status", "host")),
            "can_manage": can_manage(request.user), "filters": Filters(),
        }
        try:
            filters = Filters.parse(request.GET)
            context["filters"] = filters
            fmt = _export_format(request)
            drill = DrillDown(posture, node, filters)
        except (DrillDownError, PostureError) as exc:
            return render(request, self.template, {**context, "error": exc}, status=400)
        if fmt:
            title = f"{posture.framework.name} {node.ref_id}"
            return export_response(fmt, f"posture-{slug}-{node.ref_id}", DRILL_HEADER, drill_export_rows(drill), title)
        page = Paginator(drill, DRILL_DOWN_PAGE).get_page(request.GET.get("page"))
        context.update({"page": page, "rows": page.object_list, "lines": _lines(page.object_list)})
        return render(request, self.template, context)


class VerdictBadges:
    """posture/_verdict.html rendered once per distinct verdict, for pages that print hundreds of rows (an `{% include
    %}` per row costs more than reading the rows)."""

    def __init__(self) -> None:
        self.template = get_template("posture/_verdict.html")
        self.rendered: dict[Verdict, str] = {}

    def __call__(self, verdict: Verdict) -> str:
        try:
            return self.rendered[verdict]
        except KeyError:
            badge = self.rendered[verdict] = self.template.render({"verdict": verdict})
            return badge
        except TypeError:  # a verdict naming something unhashable
            return self.template.render({"verdict": verdict})


def _lines(rows: list[TargetRow]) -> list[dict[str, Any]]:
    """The page's rows with their links reversed and their verdicts rendered, for posture/requirement.html."""
    badge = VerdictBadges()
    hosts: dict[int, str] = {}
    lines = []
    for row in rows:
        result = row.result
        if result.host_id not in hosts:
            hosts[result.host_id] = reverse("hosts:host-detail", args=[result.host_id])
        lines.append({"row": row, "result": result, "verdict": badge(row.verdict), "host_url": hosts[result.host_id],
                      "snapshot_url": _snapshot_url(result.snapshot_id)})
    return lines


def _snapshot_url(pk: int) -> str:
    """The readable snapshot page, or the API's raw document where the estate pages are not mounted."""
    try:
        return reverse("hosts:snapshot-detail", args=[pk])
    except NoReverseMatch:
        return reverse("snapshot-detail", args=[pk])
