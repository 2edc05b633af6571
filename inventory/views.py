"""HTML pages of the inventory: the host list and a host's latest snapshot."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.views.generic import DetailView, ListView

from compliance.roles import ReaderRequiredMixin
from inventory.filters import HostFilterSet
from inventory.models import Host


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
        results = snapshot.results.filter(is_current=True) if snapshot else None
        context["result_counts"] = dict(results.values_list("status").annotate(n=Count("id"))) if results is not None else {}
        context["findings"] = (
            results.filter(status__in=["fail", "error", "manual"]).order_by("status", "control", "target_kind", "target_name")
            if results is not None else []
        )
        return context
