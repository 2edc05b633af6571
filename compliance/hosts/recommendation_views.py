"""One CIS Docker recommendation: what the catalog and the engine say of it, the status of every target across the
estate as posture judges it, and the framework requirements it maps to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from common.roles import ReaderRequiredMixin
from common.scope import SelectorError, parse_selector
from compliance.administration.limits import limits_for
from compliance.engine import BENCHMARK, CHECKS_BY_CONTROL
from compliance.hosts.services import cis_framework, host_counts, judged_results, stopped_failing
from compliance.hosts.tables import PAGE_SIZE, export, export_format, query_without
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge
from compliance.posture.services import Counts, ScopedHost, hosts_in_scope, judge_rows
from frameworks.models import Mapping, Requirement

EXPORT_BATCH = 1000

# The Counts field behind each posture status, so the page shows one count beside each status filter.
COUNT_FIELD = {
    PostureStatus.FAIL: "failing", PostureStatus.EXCEPTED: "excepted", PostureStatus.ERROR: "error",
    PostureStatus.MANUAL: "manual", PostureStatus.ATTESTED: "attested", PostureStatus.PASS: "passing",
    PostureStatus.INFO: "info", PostureStatus.NOT_APPLICABLE: "not_applicable",
}

HEADER = ["control", "hostname", "target_kind", "target_name", "target_state", "status", "exception", "evidence",
          "message", "snapshot"]


def _validate_scope(value: str) -> None:
    try:
        parse_selector(value)
    except SelectorError as exc:
        raise forms.ValidationError(str(exc)) from None


class RecommendationFilterForm(forms.Form):
    scope = forms.CharField(required=False, max_length=500, validators=[_validate_scope])
    status = forms.ChoiceField(choices=[("", "Any status"), *PostureStatus.choices], required=False)


class RecommendationView(ReaderRequiredMixin, View):
    """/controls/<control>/: the catalog's words, the engine's rule, every target's status, the mappings."""

    def get(self, request: HttpRequest, control: str) -> HttpResponse:
        check = CHECKS_BY_CONTROL.get(control)
        framework = cis_framework()
        requirement = (
            Requirement.objects.select_related("parent").filter(framework=framework, ref_id=control).first()
            if framework else None
        )
        if check is None and (requirement is None or not requirement.assessable):
            raise Http404(f"{BENCHMARK} has no recommendation {control}")
        form = RecommendationFilterForm(request.GET)
        fmt, export_error = export_format(request)
        errors = [f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()]
        if export_error:
            errors.append(export_error)
        scope = form.cleaned_data.get("scope", "") if not errors else ""
        status = form.cleaned_data.get("status", "") if not errors else ""
        context: dict[str, Any] = {
            "control": control, "check": check, "requirement": requirement, "framework": framework, "form": form,
            "errors": errors, "benchmark": BENCHMARK, "query": query_without(request), "status": status, "scope": scope,
            "mappings": _mappings(requirement),
        }
        if errors:
            return render(request, "hosts/recommendation.html", context)
        # The hosts in scope and the judge, as a posture over that scope has them; the counts are this control's
        # numbers in that posture, computed for this control alone.
        judge = Judge.at()
        # A scoped auditor's scope is ANDed with the one asked for, as on the posture pages.
        hosts = {h.id: h for h in hosts_in_scope(parse_selector(limits_for(request.user).scope_with(scope)), None)}
        if fmt:
            results = judged_results(judge, control, hosts, status).order_by(*ORDER)
            return export(fmt, f"plimsoll-{control}-targets", HEADER, _export_rows(judge, results, hosts),
                          f"CIS {control}")
        per_host = host_counts(hosts.values(), judge, control)
        counts = Counts()
        for host_count in per_host.values():
            if host_count is not None:
                counts.add(host_count)
        page, results = _page(judge, control, hosts, per_host, status, request.GET.get("page"))
        context.update(
            judge=judge, hosts=len(hosts), unjudged=sum(1 for h in hosts.values() if not h.snapshot_id), page=page,
            rows=judge_rows(judge, results, hosts), counts=counts,
            stopped_failing=0 if judge.include_stopped else stopped_failing(control, hosts.values()),
            status_counts=[(s, getattr(counts, COUNT_FIELD[s])) for s in COUNT_FIELD],
        )
        return render(request, "hosts/recommendation.html", context)


# Rows by host (as the hosts are listed: hostname, then id), then target; the page windows rely on it.
ORDER = ("host__hostname", "host_id", "target_kind", "target_name", "id")


def _page(
    judge: Judge, control: str, hosts: dict[int, ScopedHost], per_host: dict[int, Counts | None], status: str,
    number: str | None,
) -> tuple[Page, list[Any]]:
    """One page of the targets, read from the hosts it spans only.

    Each host's count of rows with `status` is known from the tallies (`host_counts`, the counts the page shows), so
    the page's first row is found by walking the hosts in order, and only the results of the few hosts the page spans
    are read and sorted, never the whole estate's (60,000 rows for a container check over 2,000 hosts).
    """
    field = COUNT_FIELD.get(PostureStatus(status)) if status else None
    sizes = []
    for host in hosts.values():
        host_count = per_host.get(host.id)
        if host_count is None:
            continue
        size = getattr(host_count, field) if field else sum(getattr(host_count, f) for f in COUNT_FIELD.values())
        if size:
            sizes.append((host, size))
    page = Paginator(range(sum(size for _, size in sizes)), PAGE_SIZE).get_page(number)
    start, end = page.start_index() - 1, page.end_index()
    spanned: dict[int, ScopedHost] = {}
    skip = seen = 0
    for host, size in sizes:
        if seen + size > start and seen < end:
            if not spanned:
                skip = start - seen
            spanned[host.id] = host
        seen += size
        if seen >= end:
            break
    if not spanned:
        return page, []
    results = (
        judged_results(judge, control, spanned, status).select_related("host").defer("evidence", "expected")
        .order_by(*ORDER)[skip:skip + len(page.object_list)]
    )
    return page, list(results)


def _mappings(requirement: Requirement | None) -> list[Mapping]:
    """The framework requirements this recommendation maps to, through the current crosswalks."""
    if requirement is None:
        return []
    return list(
        Mapping.objects.filter(source=requirement, crosswalk__is_current=True, target__framework__is_current=True)
        .select_related("target__framework").order_by("target__framework__name", "target__order")
    )


def _export_rows(judge: Any, results: Any, hosts: dict[int, ScopedHost]) -> Iterator[list[Any]]:
    batch: list[Any] = []

    def flush() -> Iterator[list[Any]]:
        for row in judge_rows(judge, batch, hosts):
            r, v = row.result, row.verdict
            yield [r.control, row.host.hostname if row.host else "", r.target_kind, r.target_name, r.target_state,
                   str(v.status), v.exception.pk if v.exception else "", v.evidence.pk if v.evidence else "", r.message,
                   r.snapshot_id]

    for result in results.defer("evidence", "expected").iterator(chunk_size=EXPORT_BATCH):
        batch.append(result)
        if len(batch) == EXPORT_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
