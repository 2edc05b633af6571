"""Host pages: every host with its results counted by posture status, and one host with its results by CIS section.

They live in the compliance domain because they show results and their posture status, which the inventory does
not know about. Every status comes from the one judge (compliance.posture.judge).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from common.roles import ADMIN, ReaderRequiredMixin, user_has_role
from compliance.administration.limits import readable_host_ids
from compliance.hosts.filters import ResultStatusForm
from compliance.hosts.services import group_by_section, host_counts, scoped_host, section_titles, status_counts
from compliance.hosts.tables import PAGE_SIZE, RESULT_HEADER, export, export_format, query_without, result_row
from compliance.posture.choices import PostureStatus
from compliance.posture.services import Counts, snapshot_rows
from compliance.posture.views import VerdictBadges
from inventory.filters import HostFilterSet, stale_cutoff
from inventory.models import Host, Snapshot

HISTORY_PAGE = 20

HOST_HEADER = [
    "hostname", "machine_id", "os", "kernel", "arch", "docker_version", "labels", "last_collected_at", "stale",
    "containers", "running", "judged_snapshot", "pass", "fail", "excepted", "attested", "manual", "error", "info",
    "not_applicable",
]


def _host_row(host: Host, counts: Counts | None, stale: bool) -> list[Any]:
    snapshot = host.last_snapshot
    tally = [counts.passing, counts.failing, counts.excepted, counts.attested, counts.manual, counts.error, counts.info,
             counts.not_applicable] if counts else [""] * 8
    return [
        host.hostname, host.machine_id, host.os_name, host.kernel, host.arch, host.docker_version, host.effective_labels,
        host.last_collected_at, "yes" if stale else "no", snapshot.container_count if snapshot else "",
        snapshot.running_count if snapshot else "", host.standing_id or "", *tally,
    ]


class HostListView(ReaderRequiredMixin, View):
    """Hosts with their standing results counted by posture status; `?export=csv|xlsx` exports every filtered row."""

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = (
            Host.objects.annotate(standing_id=Snapshot.objects.standing_id())
            .select_related("last_snapshot").defer("last_snapshot__content").order_by("hostname", "id")
        )
        # A scoped auditor reads the hosts of their label scope only.
        readable = readable_host_ids(request.user)
        if readable is not None:
            queryset = queryset.filter(pk__in=sorted(readable))
        filterset = HostFilterSet(request.GET, queryset=queryset)
        fmt, export_error = export_format(request)
        errors = [f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()]
        if export_error:
            errors.append(export_error)
        cutoff = stale_cutoff()
        if fmt and not errors:
            hosts = list(filterset.qs)
            counts = host_counts([scoped_host(h, h.standing_id) for h in hosts])
            rows = (_host_row(h, counts[h.pk], _is_stale(h, cutoff)) for h in hosts)
            return export(fmt, "plimsoll-hosts", HOST_HEADER, rows, "Hosts")
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        counts = host_counts([scoped_host(h, h.standing_id) for h in page])
        context = {
            "filter": filterset, "errors": errors, "page": page, "query": query_without(request),
            "rows": [(h, counts[h.pk], _is_stale(h, cutoff)) for h in page],
            "any_host": bool(page.object_list) or (Host.objects.exists() if readable is None else bool(readable)),
            "docker_versions": _distinct("docker_version"), "stale_hours": _stale_hours(),
        }
        return render(request, "hosts/host_list.html", context)


def printable(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The section groups with each row ready to print (`lines`, read by hosts/host_results.html): the
    recommendation's link reversed once per control and each distinct verdict rendered once. A host of 30 containers
    has a thousand results; a `{% url %}` and an `{% include %}` per row cost more than the rest of the page did."""
    badge = VerdictBadges()
    links: dict[str, str] = {}
    for group in groups:
        lines = []
        for row, title in group["rows"]:
            result = row.result
            link = links.get(result.control)
            if link is None:
                link = links[result.control] = reverse("hosts:recommendation-detail", args=[result.control])
            lines.append({
                "control": result.control, "link": link, "title": title, "kind": result.target_kind,
                "name": result.target_name, "state": result.target_state, "verdict": badge(row.verdict),
                "message": result.message,
            })
        group["lines"] = lines
    return groups


def require_readable(request: HttpRequest, host_id: int) -> None:
    """404 for a host outside a scoped auditor's label scope, as if it did not exist."""
    readable = readable_host_ids(request.user)
    if readable is not None and host_id not in readable:
        raise Http404("no such host")


def _is_stale(host: Host, cutoff: Any) -> bool:
    return host.last_collected_at is None or host.last_collected_at < cutoff


def _stale_hours() -> int:
    return settings.PLIMSOLL_STALE_HOURS


def _distinct(field: str) -> list[str]:
    """The values a host fact takes across the estate, for a filter's choices: one query, a handful of rows."""
    return [v for v in Host.objects.order_by(field).values_list(field, flat=True).distinct() if v]


class HostDetailView(ReaderRequiredMixin, View):
    """One host: facts, its standing results by CIS section with a status filter, containers, images, history."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        host = get_object_or_404(
            Host.objects.select_related("last_snapshot", "last_agent").defer("last_snapshot__content"), pk=pk
        )
        require_readable(request, host.pk)
        status, error = ResultStatusForm(request.GET).status_or_error()
        fmt, export_error = export_format(request)
        errors = [e for e in (error, export_error) if e]
        # Results come from the snapshot that stands for the host (its latest judged one), as posture reads them.
        standing = Snapshot.objects.standing().filter(host=host).defer("content").first()
        rows = snapshot_rows(standing, host.effective_labels) if standing else []
        shown = [row for row in rows if not status or row.status == status]
        if fmt and not errors:
            return export(fmt, f"plimsoll-host-{host.hostname}-results", RESULT_HEADER, map(result_row, shown),
                          "Host results")
        shown_snapshot = standing or host.last_snapshot
        context = {
            "host": host, "standing": standing, "errors": errors, "status": status,
            "statuses": PostureStatus.choices, "query": query_without(request),
            "counts": status_counts(rows), "groups": printable(group_by_section(shown, section_titles())),
            "shown_count": len(shown),
            "containers": shown_snapshot.containers.order_by("name", "id") if shown_snapshot else [],
            "images": shown_snapshot.images.order_by("image_id") if shown_snapshot else [],
            "can_label": user_has_role(request.user, ADMIN),
            "labels_text": "\n".join(f"{k}={v}" for k, v in sorted((host.labels or {}).items())),
            "stale": _is_stale(host, stale_cutoff()), "stale_hours": _stale_hours(),
            **_history(host, request.GET.get("history")),
        }
        return render(request, "hosts/host_detail.html", context)


def _history(host: Host, number: str | None) -> dict[str, Any]:
    """A page of the host's snapshots, newest first, each with the one before it (to compare with)."""
    snapshots: QuerySet[Snapshot] = host.snapshots.defer("content").order_by("-collected_at", "-id")
    page = Paginator(snapshots, HISTORY_PAGE).get_page(number)
    items = list(page.object_list)
    following = snapshots[page.end_index():page.end_index() + 1] if items else []
    previous = [*items[1:], *following]
    return {"history": page, "history_rows": [(s, previous[i] if i < len(previous) else None) for i, s in enumerate(items)]}
