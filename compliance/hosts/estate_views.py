"""Containers and images across the estate: those of each host's standing snapshot, with the CIS recommendations
that fail on each after the judge. One FilterSet per list drives the page, its export and its API."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.choices import TargetKind
from compliance.hosts.filters import EstateContainerFilterSet, EstateImageFilterSet
from compliance.hosts.services import failing_controls, scoped_host
from compliance.hosts.tables import PAGE_SIZE, export, export_format, query_without
from compliance.posture.judge import Judge
from inventory.models import Container, Image, Snapshot

# Rows judged per batch when a whole list is exported: bounded memory and query parameters.
EXPORT_BATCH = 500


def standing_containers() -> QuerySet[Container]:
    return (
        Container.objects.filter(snapshot__in=Snapshot.objects.standing().values("pk"))
        .select_related("host").order_by("host__hostname", "name", "id")
    )


def standing_images() -> QuerySet[Image]:
    return (
        Image.objects.filter(snapshot__in=Snapshot.objects.standing().values("pk"))
        .select_related("host").order_by("host__hostname", "image_id", "id")
    )


def failing_by_row(judge: Judge, kind: str, rows: Sequence[Any], id_field: str) -> dict[tuple[int, str], list[str]]:
    hosts = {row.host_id: scoped_host(row.host, row.snapshot_id) for row in rows}
    return failing_controls(judge, kind, [(row.snapshot_id, getattr(row, id_field)) for row in rows], hosts)


def _batches(queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in queryset.iterator(chunk_size=EXPORT_BATCH):
        batch.append(row)
        if len(batch) == EXPORT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _EstateListView(ReaderRequiredMixin, View):
    filterset_class: Any
    template_name = ""
    kind = ""
    id_field = ""
    filename = ""
    title = ""
    header: list[str] = []

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def export_row(self, row: Any, failing: list[str], extra: dict[tuple[int, str], Any]) -> list[Any]:
        raise NotImplementedError

    def extra(self, rows: Sequence[Any]) -> dict[tuple[int, str], Any]:
        return {}

    def get(self, request: HttpRequest) -> HttpResponse:
        # Stopped containers are listed, so their failures are shown whatever posture counts; the filter and the
        # failing column ask the same judge.
        judge = Judge.at(include_stopped=True)
        filterset = self.filterset_class(request.GET, queryset=self.base_queryset())
        filterset.judge = judge
        fmt, export_error = export_format(request)
        errors = [f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()]
        if export_error:
            errors.append(export_error)
        if fmt and not errors:
            return export(fmt, self.filename, self.header, self._export_rows(judge, filterset.qs), self.title)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        failing = failing_by_row(judge, self.kind, rows, self.id_field)
        extra = self.extra(rows)
        context = {
            "filter": filterset, "errors": errors, "page": page, "query": query_without(request),
            "rows": [(row, failing.get((row.snapshot_id, getattr(row, self.id_field)), []),
                      extra.get((row.snapshot_id, getattr(row, self.id_field)))) for row in rows],
            "any_row": bool(rows) or self.base_queryset().exists(),
        }
        return render(request, self.template_name, context)

    def _export_rows(self, judge: Judge, queryset: QuerySet[Any]) -> Iterator[list[Any]]:
        for batch in _batches(queryset):
            failing = failing_by_row(judge, self.kind, batch, self.id_field)
            extra = self.extra(batch)
            for row in batch:
                key = (row.snapshot_id, getattr(row, self.id_field))
                yield self.export_row(row, failing.get(key, []), extra.get(key))


class ContainerListView(_EstateListView):
    """Every container of the standing snapshots; `?export=csv|xlsx` exports every filtered row."""

    filterset_class = EstateContainerFilterSet
    template_name = "hosts/container_list.html"
    kind = TargetKind.CONTAINER
    id_field = "container_id"
    filename = "plimsoll-containers"
    title = "Containers"
    header = ["hostname", "name", "image", "image_id", "state", "running", "created", "container_id", "snapshot",
              "failing"]

    def base_queryset(self) -> QuerySet[Container]:
        return standing_containers()

    def export_row(self, row: Container, failing: list[str], extra: Any) -> list[Any]:
        return [row.host.hostname, row.name, row.image, row.image_id, row.state, "yes" if row.running else "no",
                row.created, row.container_id, row.snapshot_id, failing]


class ImageListView(_EstateListView):
    """Every image of the standing snapshots; `?export=csv|xlsx` exports every filtered row."""

    filterset_class = EstateImageFilterSet
    template_name = "hosts/image_list.html"
    kind = TargetKind.IMAGE
    id_field = "image_id"
    filename = "plimsoll-images"
    title = "Images"
    header = ["hostname", "tags", "image_id", "created", "size", "containers", "snapshot", "failing"]

    def base_queryset(self) -> QuerySet[Image]:
        return standing_images()

    def extra(self, rows: Sequence[Any]) -> dict[tuple[int, str], Any]:
        """(snapshot id, image id) -> how many containers of that snapshot were created from the image."""
        if not rows:
            return {}
        used = (
            Container.objects.filter(snapshot_id__in={r.snapshot_id for r in rows}, image_id__in={r.image_id for r in rows})
            .order_by().values("snapshot_id", "image_id").annotate(n=Count("id"))
        )
        return {(u["snapshot_id"], u["image_id"]): u["n"] for u in used}

    def export_row(self, row: Image, failing: list[str], extra: Any) -> list[Any]:
        return [row.host.hostname, row.tags, row.image_id, row.created, row.size, extra or 0, row.snapshot_id, failing]
