"""HTML pages of the inventory: an admin sets a host's labels. The host pages, with results, are compliance/hosts/."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from common.roles import AdminRequiredMixin
from inventory.models import Host
from inventory.services import set_host_labels
from inventory.snapshot_format import SnapshotRejected


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
                return redirect("hosts:host-detail", pk=host.pk)
            labels[key.strip()] = value.strip()
        try:
            set_host_labels(host.pk, labels, by=request.user, request=request)
        except SnapshotRejected as exc:
            messages.error(request, f"{exc.path.removeprefix('labels.')}: {exc.reason}")
        else:
            messages.success(request, "Labels saved.")
        return redirect("hosts:host-detail", pk=host.pk)
