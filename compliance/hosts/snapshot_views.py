"""Snapshot pages: one snapshot read for people, and what changed between two snapshots of one host."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.hosts import documents
from compliance.hosts.filters import ResultStatusForm
from compliance.hosts.services import group_by_section, section_titles, status_counts
from compliance.hosts.tables import RESULT_HEADER, export, export_format, query_without, result_row
from compliance.hosts.views import printable, require_readable
from compliance.models import Evaluation
from compliance.posture.choices import PostureStatus
from compliance.posture.judge import Judge
from compliance.posture.services import snapshot_rows
from inventory.models import Snapshot

COMPARE_CHOICES = 50


def _neighbours(snapshot: Snapshot) -> tuple[Snapshot | None, Snapshot | None]:
    """The host's snapshots just before and just after this one, in collection order."""
    others = Snapshot.objects.filter(host_id=snapshot.host_id).exclude(pk=snapshot.pk).defer("content")
    earlier = [s for s in others.filter(collected_at__lte=snapshot.collected_at).order_by("-collected_at", "-id")[:2]
               if (s.collected_at, s.pk) < (snapshot.collected_at, snapshot.pk)]
    later = [s for s in others.filter(collected_at__gte=snapshot.collected_at).order_by("collected_at", "id")[:2]
             if (s.collected_at, s.pk) > (snapshot.collected_at, snapshot.pk)]
    return (earlier[0] if earlier else None), (later[0] if later else None)


class SnapshotDetailView(ReaderRequiredMixin, View):
    """One snapshot: its evidence (hash and its check), what the agent saw, and its results as posture judges them."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        snapshot = get_object_or_404(Snapshot.objects.select_related("host", "agent"), pk=pk)
        require_readable(request, snapshot.host_id)
        status, error = ResultStatusForm(request.GET).status_or_error()
        fmt, export_error = export_format(request)
        errors = [e for e in (error, export_error) if e]
        rows = snapshot_rows(snapshot, snapshot.host.effective_labels)
        shown = [row for row in rows if not status or row.status == status]
        if fmt and not errors:
            return export(fmt, f"plimsoll-snapshot-{snapshot.pk}-results", RESULT_HEADER, map(result_row, shown),
                          "Snapshot results")
        doc = snapshot.document
        previous, following = _neighbours(snapshot)
        context = {
            "snapshot": snapshot, "host": snapshot.host, "verified": snapshot.verify(), "errors": errors,
            "evaluation": Evaluation.objects.filter(snapshot=snapshot, is_current=True).first(),
            "host_facts": documents.host_facts(doc), "daemon": documents.daemon_settings(doc),
            "containers": documents.containers(doc), "images": documents.images(doc), "networks": documents.networks(doc),
            "previous": previous, "following": following,
            "others": snapshot.host.snapshots.exclude(pk=snapshot.pk).defer("content")
            .order_by("-collected_at", "-id")[:COMPARE_CHOICES],
            "counts": status_counts(rows), "groups": printable(group_by_section(shown, section_titles())),
            "shown_count": len(shown), "status": status, "statuses": PostureStatus.choices,
            "query": query_without(request),
        }
        return render(request, "hosts/snapshot_detail.html", context)


class SnapshotCompareView(ReaderRequiredMixin, View):
    """`?against=<id>` from the snapshot page's form: the diff of the two, the earlier one first."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        snapshot = get_object_or_404(Snapshot.objects.defer("content"), pk=pk)
        require_readable(request, snapshot.host_id)
        raw = request.GET.get("against", "")
        other = Snapshot.objects.defer("content").filter(pk=int(raw)).first() if raw.isdigit() else None
        if other is None or other.host_id != snapshot.host_id or other.pk == snapshot.pk:
            reason = "against: choose another snapshot of the same host" if raw else "against: choose a snapshot"
            return render(request, "hosts/snapshot_diff.html", {"error": reason, "after": snapshot}, status=400)
        before, after = sorted((snapshot, other), key=lambda s: (s.collected_at, s.pk))
        return redirect("hosts:snapshot-diff", before.pk, after.pk)


class SnapshotDiffView(ReaderRequiredMixin, View):
    """From snapshot `before` to snapshot `after` of the same host: containers, images, settings, flipped results."""

    def get(self, request: HttpRequest, before: int, after: int) -> HttpResponse:
        old = get_object_or_404(Snapshot.objects.select_related("host"), pk=before)
        new = get_object_or_404(Snapshot.objects.select_related("host"), pk=after)
        require_readable(request, old.host_id)
        require_readable(request, new.host_id)
        context: dict[str, Any] = {"before": old, "after": new, "host": new.host}
        if old.host_id != new.host_id:
            context["error"] = "These snapshots are of different hosts: a diff compares two snapshots of one host."
            return render(request, "hosts/snapshot_diff.html", context, status=400)
        judge = Judge.at()
        labels = new.host.effective_labels
        context["diff"] = documents.diff(
            old.document, new.document, snapshot_rows(old, labels, judge), snapshot_rows(new, labels, judge)
        )
        context["reversed"] = (old.collected_at, old.pk) > (new.collected_at, new.pk)
        return render(request, "hosts/snapshot_diff.html", context)
