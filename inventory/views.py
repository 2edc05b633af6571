"""HTML pages of the inventory: the host list and a host's latest snapshot."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from common.roles import ADMIN, AdminRequiredMixin, ReaderRequiredMixin, user_has_role
from inventory.filters import HostFilterSet
from inventory.models import Host, LabelRule, effective_labels
from inventory.services import set_host_labels
from inventory.snapshot_format import SnapshotRejected


class HostListView(ReaderRequiredMixin, ListView):
    template_name = "inventory/host_list.html"
    context_object_name = "hosts"
    paginate_by = 100

    def get_queryset(self) -> QuerySet[Host]:
        queryset = Host.objects.select_related("last_snapshot").defer("last_snapshot__content").order_by("hostname", "id")
        self.filterset = HostFilterSet(self.request.GET, queryset=queryset)
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context


class HostDetailView(ReaderRequiredMixin, DetailView):
    template_name = "inventory/host_detail.html"
    context_object_name = "host"
    queryset = Host.objects.select_related("last_snapshot", "last_agent").defer("last_snapshot__content")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        host: Host = self.object
        snapshot = host.last_snapshot
        context["containers"] = snapshot.containers.order_by("name") if snapshot else []
        context["images"] = snapshot.images.order_by("image_id") if snapshot else []
        context["snapshots"] = host.snapshots.defer("content").order_by("-collected_at", "-id")[:20]
        context["can_label"] = user_has_role(self.request.user, ADMIN)
        context["labels_text"] = "\n".join(f"{k}={v}" for k, v in sorted((host.labels or {}).items()))
        context["effective_labels"] = effective_labels(host, list(LabelRule.objects.all()))
        results = snapshot.results.filter(is_current=True) if snapshot else None
        context["result_counts"] = dict(results.values_list("status").annotate(n=Count("id"))) if results is not None else {}
        context["findings"] = (
            results.filter(status__in=["fail", "error", "manual"]).order_by("status", "control", "target_kind", "target_name")
            if results is not None else []
        )
        return context


class HostLabelsView(AdminRequiredMixin, View):
    """Admins set a host's labels: one key=value a line."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        host = get_object_or_404(Host, pk=pk)
        labels: dict[str, str] = {}
        for number, line in enumerate(request.POST.get("labels", "").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                messages.error(request, f"Line {number}: write key=value, e.g. env=prod.")
                return redirect("inventory:host-detail", pk=host.pk)
            labels[key.strip()] = value.strip()
        try:
            set_host_labels(host.pk, labels, by=request.user, request=request)
        except SnapshotRejected as exc:
            messages.error(request, f"{exc.path.removeprefix('labels.')}: {exc.reason}")
        else:
            messages.success(request, "Labels saved.")
        return redirect("inventory:host-detail", pk=host.pk)
