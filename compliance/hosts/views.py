"""Host pages: every host with its facts, and one host with the results of the snapshot that stands for it.

They live in the compliance domain because they show results and their posture status, which the inventory
does not know about.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import QuerySet
from django.views.generic import DetailView, ListView

from common.roles import ADMIN, ReaderRequiredMixin, user_has_role
from compliance.engine import BENCHMARK
from compliance.posture.choices import PostureStatus
from compliance.posture.services import snapshot_rows
from inventory.filters import HostFilterSet
from inventory.models import Host, Snapshot

# The host page lists what needs a look; passing and informational results are counted only.
NOT_LISTED = {PostureStatus.PASS, PostureStatus.INFO, PostureStatus.NOT_APPLICABLE}


class HostListView(ReaderRequiredMixin, ListView):
    template_name = "hosts/host_list.html"
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
    template_name = "hosts/host_detail.html"
    context_object_name = "host"
    queryset = Host.objects.select_related("last_snapshot", "last_agent").defer("last_snapshot__content")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        host: Host = self.object
        # Results come from the snapshot that stands for the host (its latest judged one), as posture reads them.
        standing = Snapshot.objects.standing().filter(host=host).defer("content").first()
        shown = standing or host.last_snapshot
        context["standing"] = standing
        context["containers"] = shown.containers.order_by("name") if shown else []
        context["images"] = shown.images.order_by("image_id") if shown else []
        context["snapshots"] = host.snapshots.defer("content").order_by("-collected_at", "-id")[:20]
        context["can_label"] = user_has_role(self.request.user, ADMIN)
        context["labels_text"] = "\n".join(f"{k}={v}" for k, v in sorted((host.labels or {}).items()))
        rows = snapshot_rows(standing, host.effective_labels) if standing else []
        context["result_counts"] = dict(Counter(row.status for row in rows))
        context["findings"] = [row for row in rows if row.status not in NOT_LISTED]
        context["benchmark"] = BENCHMARK
        return context
