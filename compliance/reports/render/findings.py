"""Every listed target of a report, read once per CIS control, judged by the one judge, grouped for the PDF body and
written one per line for findings.csv.

The body shows groups (by recommendation, then image or host, with counts and names); findings.csv lists every target
of every requirement, in the drill-down's order. Rows are read in chunks and never all held: the per-control lines go
to a scratch file and findings.csv is assembled from it, requirement by requirement.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from common.csv import FORMULA_PREFIXES, csv_cell
from compliance.choices import TargetKind
from compliance.posture.choices import PostureStatus
from compliance.posture.services import ScopedHost
from inventory.models import Container

# How many target names a group prints in the body; findings.csv has every one.
NAMES_SHOWN = 12
EVIDENCE_SHOWN = 3
CHUNK = 2000
# Worst first, as the body lists groups.
STATUS_ORDER = [PostureStatus.FAIL, PostureStatus.ERROR, PostureStatus.MANUAL, PostureStatus.EXCEPTED,
                PostureStatus.ATTESTED, PostureStatus.PASS, PostureStatus.INFO, PostureStatus.NOT_APPLICABLE]
VALUE_FIELDS = ("id", "control", "status", "target_kind", "target_name", "target_id", "target_state", "snapshot_id",
                "host_id", "message", "evidence_text")
ROW_COLUMNS = ["control", "control_title", "posture_status", "engine_status", "host", "target_kind", "target_name",
               "target_id", "target_state", "image", "exception_id", "attesting_evidence_id", "snapshot_id",
               "snapshot_sha256", "snapshot_collected_at", "result_id", "message", "evidence"]


class Row(NamedTuple):
    """The fields of a stored Result that the judge and the report read, in VALUE_FIELDS order."""

    id: int
    control: str
    status: str
    target_kind: str
    target_name: str
    target_id: str
    target_state: str
    snapshot_id: int
    host_id: int
    message: str
    evidence_text: str

    @property
    def evidence(self) -> Any:
        """The evidence as the judge may read it (an image-scoped exception's fallback); parsed only then."""
        return json.loads(self.evidence_text) if self.evidence_text else {}


def with_evidence_text(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The rows' evidence as the database's JSON text: no decoding and re-encoding of every row's evidence."""
    return queryset.annotate(evidence_text=Cast("evidence", TextField()))


@dataclass
class Group:
    """Targets of one recommendation that share a posture status and a cause: an image, or being a host."""

    status: str
    kind: str
    image: str
    targets: int = 0
    host_ids: set[int] = field(default_factory=set)
    snapshot_ids: set[int] = field(default_factory=set)
    names: list[str] = field(default_factory=list)
    evidence: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    exceptions: set[int] = field(default_factory=set)
    attestations: set[int] = field(default_factory=set)
    stopped: int = 0
    snapshot: dict[str, Any] | None = None

    @property
    def hosts(self) -> int:
        return len(self.host_ids)

    @property
    def more_names(self) -> int:
        return self.targets - len(self.names)

    @property
    def evidence_shown(self) -> list[tuple[str, int]]:
        return self.evidence.most_common(EVIDENCE_SHOWN)

    @property
    def other_evidence(self) -> int:
        return self.targets - sum(n for _, n in self.evidence_shown)

    @property
    def message(self) -> str:
        return self.messages.most_common(1)[0][0] if self.messages else ""

    @property
    def label(self) -> str:
        if self.kind == TargetKind.HOST:
            return "Hosts"
        if self.kind == TargetKind.IMAGE:
            return f"Image {self.image}" if self.image else "Images"
        return f"Containers of image {self.image}" if self.image else "Containers (image unknown)"


@dataclass
class ControlFindings:
    """One CIS control's listed targets: its groups for the body and the span of its lines in the scratch file."""

    control: str
    title: str
    groups: list[Group]
    counts: Counter[str]
    rows: int
    span: tuple[int, int]

    @property
    def count_items(self) -> list[tuple[str, int]]:
        return [(s.value, self.counts[s.value]) for s in STATUS_ORDER if self.counts.get(s.value)]


class FindingsCollector:
    """Reads, judges and groups the targets of each control once, whatever the number of requirements mapping it."""

    def __init__(self, workdir: Path, judge: Any, hosts: Sequence[ScopedHost], snapshots: dict[int, dict[str, Any]],
                 titles: dict[str, str]) -> None:
        self.judge = judge
        self.hosts = {h.id: h for h in hosts}
        self.snapshots = snapshots
        self.titles = titles
        self.scratch_path = workdir / "rows.scratch"
        self._scratch: BinaryIO = self.scratch_path.open("w+b")
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        self.by_control: dict[str, ControlFindings] = {}
        self.failing_by_host: Counter[int] = Counter()
        self.exception_ids: set[int] = set()
        self.evidence_ids: set[int] = set()
        self._image_map: dict[tuple[int, str], tuple[str, str]] | None = None
        for snapshot in snapshots.values():
            snapshot.setdefault("collected_iso", _iso(snapshot.get("collected_at")))

    def close(self) -> None:
        self._scratch.close()

    def collect(self, control: str, values: Iterable[Sequence[Any]]) -> ControlFindings:
        """Judge and group one control's rows (tuples in VALUE_FIELDS order, in the drill-down's order)."""
        start = self._scratch.tell()
        groups: dict[tuple[str, str, str], Group] = {}
        counts: Counter[str] = Counter()
        total = 0
        images = self._images()
        verdict = self.judge.verdict
        for batch in _chunks(values, CHUNK):
            for row in map(Row._make, batch):
                # What judge_rows does, with the images read once for the whole report instead of once per chunk.
                image = images.get((row.snapshot_id, row.target_id)) if row.target_kind == TargetKind.CONTAINER else None
                self._add(row, verdict(row, self.hosts.get(row.host_id), image), image, groups, counts)
                total += 1
            self._scratch.write(self._buffer.getvalue().encode("utf-8"))
            self._buffer.seek(0)
            self._buffer.truncate()
        self._scratch.flush()
        ordered = sorted(groups.values(), key=lambda g: (STATUS_ORDER.index(PostureStatus(g.status)), -g.targets, g.label))
        for group in ordered:
            if len(group.snapshot_ids) == 1:
                group.snapshot = self.snapshots.get(next(iter(group.snapshot_ids)))
        found = ControlFindings(control, self.titles.get(control, ""), ordered, counts, total, (start, self._scratch.tell()))
        self.by_control[control] = found
        return found

    def _images(self) -> dict[tuple[int, str], tuple[str, str]]:
        """(snapshot id, container id) -> (image reference, image id) for every container of the snapshots read: one
        query per report (what image-scoped exceptions match, and how container groups are keyed)."""
        if self._image_map is None:
            rows = Container.objects.filter(snapshot_id__in=list(self.snapshots))
            self._image_map = {(snapshot, container): (image, image_id) for snapshot, container, image, image_id
                               in rows.values_list("snapshot_id", "container_id", "image", "image_id").iterator(chunk_size=5000)}
        return self._image_map

    def _add(self, result: Row, verdict: Any, image_ref: tuple[str, str] | None, groups: dict[tuple[str, str, str], Group],
             counts: Counter[str]) -> None:
        host = self.hosts.get(result.host_id)
        hostname = host.hostname if host else f"host #{result.host_id}"
        status = str(verdict.status)
        image = ""
        if result.target_kind == TargetKind.CONTAINER:
            image = image_ref[0] if image_ref else ""
        elif result.target_kind == TargetKind.IMAGE:
            image = result.target_name
        key = (status, result.target_kind, image)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(status, result.target_kind, image)
        group.targets += 1
        group.host_ids.add(result.host_id)
        group.snapshot_ids.add(result.snapshot_id)
        if len(group.names) < NAMES_SHOWN:
            group.names.append(hostname if result.target_kind == TargetKind.HOST else f"{hostname}: {result.target_name}")
        evidence = "" if result.evidence_text in ("{}", "null", None) else result.evidence_text
        if evidence in group.evidence or len(group.evidence) < 20:
            group.evidence[evidence] += 1
        if result.message in group.messages or len(group.messages) < 5:
            group.messages[result.message] += 1
        if result.target_kind == TargetKind.CONTAINER and (result.target_state or "") != "running":
            group.stopped += 1
        counts[status] += 1
        if verdict.status == PostureStatus.FAIL:
            self.failing_by_host[result.host_id] += 1
        exception_id = verdict.exception.pk if verdict.exception is not None else ""
        evidence_id = verdict.evidence.pk if verdict.evidence is not None else ""
        if exception_id:
            group.exceptions.add(exception_id)
            self.exception_ids.add(exception_id)
        if evidence_id:
            group.attestations.add(evidence_id)
            self.evidence_ids.add(evidence_id)
        snapshot = self.snapshots.get(result.snapshot_id, {})
        # Catalog ids, enums, numbers and hashes are written as they are; what an agent sent goes through _cell.
        self._writer.writerow((
            result.control, self.titles.get(result.control, ""), status, result.status, _cell(hostname), result.target_kind,
            _cell(result.target_name), _cell(result.target_id), _cell(result.target_state), _cell(image), exception_id,
            evidence_id, result.snapshot_id, snapshot.get("sha256", ""), snapshot.get("collected_iso", ""), result.id,
            _cell(result.message), _cell(evidence),
        ))

    def write_csv(self, path: Path, sections: Iterable[tuple[Sequence[Any], Sequence[str]]],
                  prefix_columns: Sequence[str]) -> int:
        """findings.csv: for each (prefix cells, controls) section, every line of those controls after the prefix."""
        self._scratch.flush()
        written = 0
        with path.open("wb") as out:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow([*prefix_columns, *ROW_COLUMNS])
            out.write(header.getvalue().encode("utf-8"))
            for prefix_cells, controls in sections:
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="").writerow([_cell(c) for c in prefix_cells])
                prefix = buffer.getvalue().encode("utf-8") + b"," if prefix_cells else b""
                for control in controls:
                    found = self.by_control.get(control)
                    if found is None or not found.rows:
                        continue
                    start, end = found.span
                    self._scratch.seek(start)
                    data = self._scratch.read(end - start)
                    # One record per line (line breaks inside cells are written as \\n): the prefix goes before each.
                    out.write(prefix + data[:-1].replace(b"\n", b"\n" + prefix) + b"\n")
                    written += found.rows
        return written


def _cell(value: Any) -> Any:
    """A formula-safe cell on one line (common.csv's rule, applied only where it can change something: this runs for
    every cell of hundreds of thousands of rows); a line break inside a text becomes the two characters \\n."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return csv_cell(value)
    if value and value[0] in FORMULA_PREFIXES:
        value = csv_cell(value)
    if "\n" in value or "\r" in value:
        value = value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return value


def _chunks(values: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""
