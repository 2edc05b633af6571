"""Containers and images across the estate: those of each host's standing snapshot, with the CIS recommendations
that fail on each after the judge. One FilterSet per list drives the page, its export and its API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.administration.limits import readable_host_ids
from compliance.choices import TargetKind
from compliance.hosts.filters import EstateContainerFilterSet, EstateImageFilterSet
from compliance.hosts.services import failing_controls, scoped_host
from compliance.hosts.tables import PAGE_SIZE, export, export_format, query_without
from compliance.imports.judging import ImageFindings, ImportIndex
from compliance.posture.judge import Judge
from inventory.models import Container, Image, Snapshot

# Rows judged per batch when a whole list is exported: bounded memory and query parameters.
EXPORT_BATCH = 500


def standing_containers() -> QuerySet[Container]:
    return (
        Container.objects.filter(snapshot__in=Snapshot.objects.standing().values("pk"))
        .select_related("host").order_by("host__hostname", "host_id", "name", "id")
    )


def standing_images() -> QuerySet[Image]:
    return (
        Image.objects.filter(snapshot__in=Snapshot.objects.standing().values("pk"))
        .select_related("host").order_by("host__hostname", "host_id", "image_id", "id")
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


class _EstateListView(ReaderRequiredMixin, View, ABC):
    filterset_class: Any
    template_name = ""
    kind = ""
    id_field = ""
    count_field = ""
    filename = ""
    title = ""
    header: list[str] = []

    @abstractmethod
    def base_queryset(self) -> QuerySet[Any]:
        """The rows of the list before its filters."""

    @abstractmethod
    def export_row(self, row: Any, failing: list[str], extra: dict[tuple[int, str], Any]) -> list[Any]:
        """One row of the CSV/XLSX export, in the order of `header`."""

    def extra(self, rows: Sequence[Any]) -> dict[tuple[int, str], Any]:
        return {}

    def get(self, request: HttpRequest) -> HttpResponse:
        # Stopped containers are listed, so their failures are shown whatever posture counts; the filter and the
        # failing column ask the same judge.
        judge = Judge.at(include_stopped=True)
        base = self.base_queryset()
        # A scoped auditor reads the containers and images of the hosts of their label scope only.
        readable = readable_host_ids(request.user)
        if readable is not None:
            base = base.filter(host_id__in=sorted(readable))
        filterset = self.filterset_class(request.GET, queryset=base)
        filterset.judge = judge
        fmt, export_error = export_format(request)
        errors = [f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()]
        if export_error:
            errors.append(export_error)
        if fmt and not errors:
            return export(fmt, self.filename, self.header, self._export_rows(judge, filterset.qs), self.title)
        if errors or any(value not in (None, "", []) for value in filterset.form.cleaned_data.values()):
            page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
            rows = list(page.object_list)
        else:
            page, rows = self._unfiltered_page(base, readable, request.GET.get("page"))
        failing = failing_by_row(judge, self.kind, rows, self.id_field)
        extra = self.extra(rows)
        context = {
            "filter": filterset, "errors": errors, "page": page, "query": query_without(request),
            "rows": [(row, failing.get((row.snapshot_id, getattr(row, self.id_field)), []),
                      extra.get((row.snapshot_id, getattr(row, self.id_field)))) for row in rows],
            "any_row": bool(rows) or base.exists(),
        }
        return render(request, self.template_name, context)

    def _unfiltered_page(
        self, base: QuerySet[Any], readable: frozenset[int] | None, number: str | None
    ) -> tuple[Page, list[Any]]:
        """A page of every row, read from the snapshots it spans only.

        Each standing snapshot's number of rows is stored on it (`count_field`), so the count and the snapshots a page
        spans come from the snapshots alone, and only those few snapshots' rows are read and sorted, never the whole
        estate's (60,000 containers over 2,000 hosts).
        """
        snapshots = Snapshot.objects.standing().filter(**{f"{self.count_field}__gt": 0})
        if readable is not None:
            snapshots = snapshots.filter(host_id__in=sorted(readable))
        sizes = list(snapshots.order_by("host__hostname", "host_id").values_list("pk", self.count_field))
        page = Paginator(range(sum(size for _, size in sizes)), PAGE_SIZE).get_page(number)
        start, end = page.start_index() - 1, page.end_index()
        spanned: list[int] = []
        skip = seen = 0
        for snapshot_id, size in sizes:
            if seen + size > start and seen < end:
                if not spanned:
                    skip = start - seen
                spanned.append(snapshot_id)
            seen += size
            if seen >= end:
                break
        if not spanned:
            return page, []
        return page, list(base.filter(snapshot_id__in=spanned)[skip:skip + len(page.object_list)])

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
    count_field = "container_count"
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
    count_field = "image_count"
    filename = "plimsoll-images"
    title = "Images"
    header = ["hostname", "tags", "image_id", "created", "size", "containers", "snapshot", "failing", "trivy_scan",
              "cosign_signatures"]

    def base_queryset(self) -> QuerySet[Image]:
        return standing_images()

    def extra(self, rows: Sequence[Any]) -> dict[tuple[int, str], Any]:
        """(snapshot id, image id) -> how many containers of that snapshot were created from the image.

        Each row also gets `imports`: what imported Trivy scans and Cosign verifications say of it now (the scan's
        verdict under the policy its snapshot was judged with, the signatures of its digests), or None."""
        if not rows:
            return {}
        attach_imports(rows)
        # The containers of those snapshots (at most a page of snapshots), counted here: filtering the container view
        # by image id as well makes PostgreSQL read every snapshot's set, ten times slower.
        wanted = {(r.snapshot_id, r.image_id) for r in rows}
        used = Counter(
            key for key in Container.objects.filter(snapshot_id__in={r.snapshot_id for r in rows})
            .order_by().values_list("snapshot_id", "image_id") if key in wanted
        )
        return dict(used)

    def export_row(self, row: Image, failing: list[str], extra: Any) -> list[Any]:
        found: ImageFindings | None = getattr(row, "imports", None)
        scan = f"{found.verdict}: {found.reason} (sha256 {found.scan.source.sha256})" if found and found.scan else ""
        signed = [f"{s.identity} (sha256 {s.source.sha256})" for s in found.signatures] if found else []
        return [row.host.hostname, row.tags, row.image_id, row.created, row.size, extra or 0, row.snapshot_id, failing,
                scan, signed]


def attach_imports(rows: Sequence[Any]) -> None:
    """Set `imports` on each image row: its ImageFindings (newest scan and its verdict, signatures), None if none.

    One query for the imports; when there are any, four for the images' repo digests and one for the policies of the
    page's snapshots, whatever the number of rows."""
    index = ImportIndex(timezone.now())
    if not index.active:
        for row in rows:
            row.imports = None
        return
    index.prepare({row.snapshot_id for row in rows})
    for row in rows:
        images = [i for i in index.images_of(row.snapshot_id) if i.image_id == row.image_id]
        found = index.findings(images[:1], index.policy_of(row.snapshot_id)) if images else []
        row.imports = found[0] if found and (found[0].scan or found[0].signatures) else None
