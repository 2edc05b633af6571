"""Inventory services: decoding and ingesting snapshots, enrolling agents."""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from inventory.bulk import store_set
from inventory.choices import EvaluationStatus
from inventory.labels import relabel_host
from inventory.models import (
    ROW_ID_SPAN,
    SKELETON_MARK,
    STORAGE_LOCK,
    AgentToken,
    ContainerRecord,
    ContainerSet,
    DocumentPart,
    Host,
    ImageRecord,
    ImageSet,
    NetworkRecord,
    NetworkSet,
    PrunedSnapshot,
    Snapshot,
    row_digest,
)
from inventory.signals import snapshot_stored
from inventory.snapshot_format import (
    Path,
    SnapshotRejected,
    canonical_bytes,
    check_labels,
    find_nul,
    parse_rfc3339,
    part_at,
    redact_snapshot,
    references,
    split_document,
    stored_time,
    validate_snapshot,
)

logger = logging.getLogger(__name__)
_CHUNK = 64 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=15)


class HostNotAllowed(PermissionDenied):
    """A push for a host this agent token may not speak for: 403 at the edge (DRF answers PermissionDenied so)."""

    def __init__(self, machine_id: str, reason: str) -> None:
        super().__init__(reason)
        self.machine_id = machine_id
        self.reason = reason


class SnapshotTooLarge(Exception):
    """The snapshot (after decompression) is larger than PLIMSOLL_MAX_SNAPSHOT_BYTES."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"snapshot exceeds the limit of {limit} bytes")
        self.limit = limit


def read_body(stream: IO[bytes], content_encoding: str, limit: int) -> bytes:
    """Read a request body, gunzipping it if asked, never holding more than `limit` decompressed bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in {"identity", "gzip", "x-gzip"}:
        raise SnapshotRejected("Content-Encoding", f"unsupported encoding {encoding!r}; send gzip or none")
    out = bytearray()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    while chunk := stream.read(_CHUNK):
        if inflater is None:
            out += chunk
        else:
            try:
                # max_length bounds each step, so a small bomb cannot expand past the limit in memory.
                out += inflater.decompress(chunk, limit + 1 - len(out))
                while inflater.unconsumed_tail and len(out) <= limit:
                    out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            except zlib.error as exc:
                raise SnapshotRejected("$", f"body is not valid gzip: {exc}") from None
        if len(out) > limit:
            raise SnapshotTooLarge(limit)
    if inflater is not None and not inflater.eof:
        raise SnapshotRejected("$", "gzip body is truncated")
    return bytes(out)


def _no_constant(name: str) -> Any:
    raise SnapshotRejected("$", f"invalid JSON: {name} is not a JSON number")


def parse_document(body: bytes) -> Any:
    if not body:
        raise SnapshotRejected("$", "empty body; expected a JSON snapshot document")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # Parse again with the standard library: it says where the error is, in words a person can act on.
        strict = str(exc)
    try:
        json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise SnapshotRejected("$", "invalid JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise SnapshotRejected("$", "body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SnapshotRejected("$", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise SnapshotRejected("$", f"invalid JSON: {exc}") from None
    # The standard library takes what cannot be stored: lone surrogates ("\ud800"), integers past 64 bits.
    raise SnapshotRejected("$", f"invalid JSON: {strict}")


@dataclass(frozen=True)
class IngestResult:
    snapshot: Snapshot
    created: bool


def _container_row(position: int, item: dict[str, Any]) -> dict[str, Any]:
    inspect = item["inspect"]
    state = inspect.get("State") or {}
    config = inspect.get("Config") or {}
    return {
        "container_id": inspect["Id"],
        "name": (inspect.get("Name") or inspect["Id"][:12]).lstrip("/")[:255],
        "image": (config.get("Image") or inspect.get("ImageName") or "")[:512],
        "image_id": (inspect.get("Image") or "")[:128],
        "state": (state.get("Status") or "")[:32],
        "running": bool(state.get("Running")),
        "created": stored_time(inspect.get("Created"), f"docker.containers[{position}].inspect.Created"),
    }


def _image_row(position: int, item: dict[str, Any]) -> dict[str, Any]:
    inspect = item["inspect"]
    size = inspect.get("Size")
    return {
        "image_id": inspect["Id"],
        "tags": inspect.get("RepoTags") or [],
        "created": stored_time(inspect.get("Created"), f"docker.images[{position}].inspect.Created"),
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
    }


def _network_row(position: int, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "network_id": item["Id"],
        "name": (item.get("Name") or item["Id"][:12])[:255],
        "driver": str(item.get("Driver") or "")[:64],
    }


def store_document(
    document: dict[str, Any], canonical: bytes, sha256: str = "", previous: bytes | None = None
) -> bytes:
    """Store the parts of a document not stored yet; returns what Snapshot.content holds.

    `previous` is the content of the host's previous snapshot: each new part is stored as a delta against the part
    that stood at the same place there, and the skeleton as a delta against the host's last skeleton stored whole,
    when that is less than half the size of storing it whole (docs/storage.md)."""
    split = split_document(document, canonical)
    if not split.parts:
        return Snapshot.pack_skeleton(split.skeleton, False)
    known = DocumentPart.stored(list(split.parts))
    new = {sha: stored for sha, stored in split.parts.items() if sha not in known}
    bases: dict[str, tuple[str, bytes]] = {}
    near: dict[str, str] = {}
    skeleton_base = None
    if previous is not None:
        # A host's first snapshot has nothing to be a delta of: no lookups.
        content_base = Snapshot.content_base(previous)
        forms = DocumentPart.keyframes({content_base}) if content_base else {}
        before = Snapshot.unpack_content(previous, forms)
        skeleton_base = _skeleton_base(previous, before)
        if skeleton_base in forms:
            bases[skeleton_base] = (skeleton_base, forms[skeleton_base])
        elif skeleton_base is not None:
            bases = _keyframes_of({skeleton_base})
        last = before[1:] if before[:1] == SKELETON_MARK else None
        if last is not None and skeleton_base in bases and last == f'"\\u0000{skeleton_base}"'.encode():
            last = bases[skeleton_base][1]  # the previous snapshot was stored whole: its skeleton is that part
        wanted = {sha: split.paths[sha] for sha in new if sha in split.paths}
        near = _parts_at(last, wanted) if last is not None and wanted else {}
        bases.update(_keyframes_of(set(near.values())))
    rows = {sha: _smaller(DocumentPart.pack(stored), DocumentPart.pack_delta, stored, bases.get(near.get(sha, "")))
            for sha, stored in new.items()}
    unpacked = SKELETON_MARK + split.skeleton
    content = _smaller(Snapshot.pack(unpacked), Snapshot.pack_delta, unpacked, bases.get(skeleton_base or ""))
    if Snapshot.content_base(content) is None and sha256:
        # Stored whole: the skeleton becomes a part (its canonical bytes are the document's), the base of the
        # host's next skeletons, and the content a reference to it.
        rows.setdefault(sha256, DocumentPart.pack(split.skeleton))
        content = Snapshot.pack_skeleton(f'"\\u0000{sha256}"'.encode(), True)
    DocumentPart.insert(rows)
    return content


def _smaller(whole: bytes, pack_delta: Any, stored: bytes, base: tuple[str, bytes] | None) -> bytes:
    """The delta against `base` when it is under half the size of `whole` (else `whole`: a new base for later)."""
    if base is None:
        return whole
    delta = pack_delta(stored, *base)
    return delta if len(delta) * 2 < len(whole) else whole


def _skeleton_base(previous: bytes | None, before: bytes | None) -> str | None:
    """The part the previous snapshot's skeleton is (a keyframe) or is a delta against; None for older forms."""
    if previous is None or before is None:
        return None
    if (base := Snapshot.content_base(previous)) is not None:
        return base
    root = before[1:] if before[:1] == SKELETON_MARK else b""
    refs = references(root)
    return refs[0] if len(refs) == 1 and root == f'"\\u0000{refs[0]}"'.encode() else None


def _parts_at(skeleton: bytes, paths: dict[str, Path]) -> dict[str, str]:
    """For each new part (sha256 -> its place), the part at the same place in a previous skeleton, if any."""
    pending = {sha: (skeleton, path) for sha, path in paths.items()}
    forms: dict[str, bytes] = {}
    found: dict[str, str] = {}
    while pending:
        deeper: dict[str, tuple[str, Path]] = {}
        for sha, (stored, path) in pending.items():
            ref, rest = part_at(stored, path)
            if ref is not None and rest:
                deeper[sha] = (ref, rest)
            elif ref is not None:
                found[sha] = ref
        fetch = {ref for ref, _ in deeper.values()} - forms.keys()
        if fetch:
            rows = DocumentPart.objects.filter(sha256__in=fetch).values_list("sha256", "data")
            forms.update(DocumentPart.unpack_rows(rows, skip_broken=True))
        pending = {sha: (forms[ref], rest) for sha, (ref, rest) in deeper.items() if ref in forms}
    return found


def _keyframes_of(shas: set[str]) -> dict[str, tuple[str, bytes]]:
    """For each of these parts, the part stored whole it is (or is a delta against), with its stored form."""
    data = dict(DocumentPart.objects.filter(sha256__in=shas).values_list("sha256", "data")) if shas else {}
    base_of = {sha: DocumentPart.base_of(d) or sha for sha, d in data.items()}
    whole = {sha: DocumentPart.unpack(d) for sha, d in data.items() if base_of[sha] == sha}
    more = set(base_of.values()) - whole.keys()
    if more:
        rows = DocumentPart.objects.filter(sha256__in=more).values_list("sha256", "data")
        whole.update({sha: DocumentPart.unpack(d) for sha, d in rows if DocumentPart.base_of(d) is None})
    return {sha: (base, whole[base]) for sha, base in base_of.items() if base in whole}


KINDS = ("container", "image", "network")


def store_rows(document: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, int]:
    """The container, image and network sets of a document (ids for Snapshot.*_set), storing what is new; a set
    equal to the one of the host's previous snapshot (`previous`, from previous_snapshot) is reused. Without a
    previous snapshot (a new host) its container and network records are expected new (store_set's `first`)."""
    docker = document["docker"]
    containers = [_container_row(i, c) for i, c in enumerate(docker.get("containers") or [])]
    images = [_image_row(i, m) for i, m in enumerate(docker.get("images") or [])]
    networks = [_network_row(i, n) for i, n in enumerate(docker.get("networks") or [])]
    for kind, rows in (("containers", containers), ("images", images), ("networks", networks)):
        if len(rows) >= ROW_ID_SPAN:
            raise SnapshotRejected(f"docker.{kind}", f"more than {ROW_ID_SPAN - 1} items")
    first = not previous
    previous = previous or {}
    return {
        f"{kind}_set_id": store_set(record_model, set_model, rows, row_digest,
                                    (previous.get(f"{kind}_set_id"), previous.get(f"{kind}_set__records")),
                                    first=first and own)
        for kind, record_model, set_model, rows, own in (
            # A container's or a network's record holds its id, which is the host's own; images are often shared.
            ("container", ContainerRecord, ContainerSet, containers, True),
            ("image", ImageRecord, ImageSet, images, False),
            ("network", NetworkRecord, NetworkSet, networks, True),
        )
    }


def previous_snapshot(host: Host) -> dict[str, Any]:
    """The sets of the host's last snapshot (in ingest order), which its next snapshot reuses if nothing changed."""
    fields = [*(f"{kind}_set_id" for kind in KINDS), *(f"{kind}_set__records" for kind in KINDS)]
    return Snapshot.objects.filter(host=host).order_by("-id").values(*fields).first() or {}


def chain_head(host: Host) -> str:
    """The sha256 the host's next snapshot chains to: that of its last snapshot in ingest order, pruned or not."""
    last = Snapshot.objects.filter(host=host).order_by("-id").values_list("id", "sha256").first()
    pruned = PrunedSnapshot.objects.filter(host=host).order_by("-id").values_list("id", "sha256").first()
    newest = max((row for row in (last, pruned) if row is not None), default=None)
    return newest[1] if newest else ""


def _update_host(
    host: Host, document: dict[str, Any], snapshot: Snapshot, agent: AgentToken | None, *, new: bool = False
) -> None:
    facts = document["host"]
    version = (document["docker"].get("version") or {}).get("Version") or ""
    host.last_agent = agent
    if host.last_collected_at is None or snapshot.collected_at >= host.last_collected_at:
        # A spooled snapshot may arrive after a newer one: the host's facts follow the newest collection.
        host.hostname = facts["hostname"]
        host.os_name = str((facts.get("os_release") or {}).get("PRETTY_NAME") or "")[:255]
        host.kernel = (facts.get("kernel") or "")[:255]
        host.arch = (facts.get("arch") or "")[:64]
        host.docker_version = str(version)[:64]
        host.agent_labels = document["agent"].get("labels") or {}
        host.last_snapshot = snapshot
        host.last_collected_at = snapshot.collected_at
    # The agent's labels and the facts label rules match on may have changed; a new host gets its first row.
    relabel_host(host, first=new)
    host.save()


def announce_snapshot(snapshot_id: int) -> None:
    """Tell the listeners (the compliance app queues the evaluation) that a snapshot is stored."""
    snapshot_stored.send_robust(sender=Snapshot, snapshot_id=snapshot_id)


def ingest_snapshot(document: Any, agent: AgentToken | None) -> IngestResult:
    """Validate, redact and store one snapshot in one transaction; a snapshot already stored is returned as it was."""
    validate_snapshot(document)
    redact_snapshot(document)
    try:
        canonical = canonical_bytes(document)
    except RecursionError:
        raise SnapshotRejected("$", "nested too deeply") from None
    if b"\\u0000" in canonical and (where := find_nul(document)) is not None:
        raise SnapshotRejected(where, "contains a NUL character")
    sha256 = hashlib.sha256(canonical).hexdigest()
    collected_at = parse_rfc3339(document["agent"]["collected_at"], "agent.collected_at")
    if collected_at > timezone.now() + MAX_CLOCK_SKEW:
        # A snapshot from the future would stand as the host's latest for good; the agent keeps it in rejected/.
        raise SnapshotRejected("agent.collected_at", f"{collected_at.isoformat()} is in the future: check the host's clock")
    existing = Snapshot.objects.filter(sha256=sha256).defer("content").first()
    if existing is not None:
        return IngestResult(existing, created=False)
    if len(canonical) > settings.PLIMSOLL_MAX_SNAPSHOT_BYTES:
        raise SnapshotTooLarge(settings.PLIMSOLL_MAX_SNAPSHOT_BYTES)
    try:
        try:
            snapshot = _store(document, canonical, sha256, agent)
        except IntegrityError:
            # The same snapshot raced in through another request: answer with the one that won.
            existing = Snapshot.objects.filter(sha256=sha256).defer("content").first()
            if existing is not None:
                return IngestResult(existing, created=False)
            # Otherwise two first snapshots of a new host raced to create it; it exists now.
            snapshot = _store(document, canonical, sha256, agent)
    except HostNotAllowed as exc:
        _record_refusal(agent, exc)
        raise
    return IngestResult(snapshot, created=True)


def _check_binding(host: Host, agent: AgentToken | None) -> None:
    """Bind the host to the pushing token, or refuse the push (raises HostNotAllowed); called with the host locked."""
    if agent is None:
        return
    if host.agent_token_id is not None:
        if host.agent_token_id != agent.pk:
            raise HostNotAllowed(host.machine_id, "this host is bound to another agent token")
        return
    if not agent.fleet and Host.objects.filter(agent_token=agent).exclude(pk=host.pk).exists():
        raise HostNotAllowed(host.machine_id, "this agent token is bound to another host; use a fleet token to enrol many")
    host.agent_token = agent


def _record_refusal(agent: AgentToken | None, exc: HostNotAllowed) -> None:
    from audit.choices import AuditAction
    from audit.services import record

    record(AuditAction.DENY, agent, username=f"agent:{agent.name}" if agent else "",
           changes={"push": [exc.machine_id, exc.reason]})


def _store(document: dict[str, Any], canonical: bytes, sha256: str, agent: AgentToken | None) -> Snapshot:
    docker = document["docker"]
    containers = docker.get("containers") or []
    with transaction.atomic():
        host, new = Host.objects.select_for_update().get_or_create(
            machine_id=document["host"]["machine_id"], defaults={"hostname": document["host"]["hostname"]}
        )
        _check_binding(host, agent)
        if connection.vendor == "postgresql":
            # Retention's sweep of unreferenced parts and rows takes this lock alone (inventory.retention).
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [STORAGE_LOCK])
        # A host created just now has no snapshot and no tombstone: nothing to chain to or reuse.
        previous = {} if new else previous_snapshot(host)
        snapshot = Snapshot.objects.create(
            host=host,
            previous_sha256="" if new else chain_head(host),
            agent=agent,
            sha256=sha256,
            schema=document["schema"],
            agent_version=document["agent"]["version"][:64],
            collected_at=parse_rfc3339(document["agent"]["collected_at"], "agent.collected_at"),
            size_bytes=len(canonical),
            # Whole for now: the evaluation task stores it by content (inventory.compaction), off the agent's wait.
            content=Snapshot.pack(canonical),
            container_count=len(containers),
            running_count=sum(1 for c in containers if (c["inspect"].get("State") or {}).get("Running")),
            image_count=len(docker.get("images") or []),
            **store_rows(document, previous),
        )
        _update_host(host, document, snapshot, agent, new=new)
        transaction.on_commit(lambda: announce_snapshot(snapshot.pk), robust=True)
    return snapshot


def touch_agent(agent: AgentToken) -> None:
    # One write per minute at most, so a busy agent does not turn every push into an extra UPDATE.
    now = timezone.now()
    if agent.last_used_at is None or (now - agent.last_used_at).total_seconds() > 60:
        AgentToken.objects.filter(pk=agent.pk).update(last_used_at=now)


def prune_snapshots(now: datetime | None = None, retention_days: int | None = None) -> int:
    """Delete snapshots older than the retention period; 0 days keeps everything.

    Never deleted: the snapshot that stands for a host now (its latest judged one, whose results are the host's
    posture), the host's newest snapshot (Host.last_snapshot, whose facts the host shows, maybe not judged yet), and
    a snapshot being judged right now. Each deleted snapshot leaves a PrunedSnapshot (its id, sha256 and
    previous_sha256), so every host's hash chain stays whole. Then document parts, records and sets no snapshot
    refers to any more are swept (sweep_storage). Returns how many snapshots were deleted (their results go with them).
    """
    days = settings.PLIMSOLL_SNAPSHOT_RETENTION_DAYS if retention_days is None else retention_days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    newest = Host.objects.exclude(last_snapshot=None).values("last_snapshot")
    kept = (
        Q(pk__in=Snapshot.objects.standing().values("pk"))
        | Q(pk__in=newest)
        | Q(evaluation_status=EvaluationStatus.RUNNING)
    )
    old = Snapshot.objects.filter(collected_at__lt=cutoff).exclude(kept)
    deleted = 0
    for ids in _chunks(list(old.values_list("pk", flat=True)), 200):
        with transaction.atomic():
            chain = Snapshot.objects.filter(pk__in=ids).values_list(
                "pk", "host_id", "sha256", "previous_sha256", "collected_at"
            )
            PrunedSnapshot.objects.bulk_create([
                PrunedSnapshot(id=pk, host_id=host_id, sha256=sha, previous_sha256=previous, collected_at=collected)
                for pk, host_id, sha, previous, collected in chain
            ], ignore_conflicts=True)
            deleted += Snapshot.objects.filter(pk__in=ids).delete()[1].get("inventory.Snapshot", 0)
    if deleted:
        sweep_storage()
    return deleted


def _reachable_parts(contents: Any, live: set[str]) -> None:
    """Add to `live` every document part the given snapshot contents refer to at any depth, and the parts they and
    those parts are deltas against."""
    wanted: set[str] = set()
    for batch in _batches(contents, 500):
        for content in batch:
            if (base := Snapshot.content_base(content)) is not None:
                live.add(base)
        for stored in Snapshot.unpack_contents(batch):
            if stored[:1] == SKELETON_MARK:
                wanted.update(references(stored[1:]))
    wanted -= live
    while wanted:
        live |= wanted
        found: set[str] = set()
        for shas in _chunks(sorted(wanted), 1000):
            rows = list(DocumentPart.objects.filter(sha256__in=shas).values_list("sha256", "data"))
            live.update(base for _, data in rows if (base := DocumentPart.base_of(data)) is not None)
            for stored in DocumentPart.unpack_rows(rows, skip_broken=True).values():
                found.update(references(stored))
        wanted = found - live


def _batches(items: Any, size: int) -> Any:
    batch: list[Any] = []
    for item in items:
        batch.append(bytes(item))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep_storage() -> dict[str, int]:
    """Delete the document parts, sets and records no snapshot refers to; returns how many of each went.

    The walk over the snapshots stored so far runs without a lock; the walk over those stored meanwhile and the
    deletions hold the storage lock, which ingest takes shared (PostgreSQL), so no push reuses a part being deleted.
    """
    live: set[str] = set()
    watermark = Snapshot.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    _reachable_parts(Snapshot.objects.filter(pk__lte=watermark).values_list("content", flat=True).iterator(500), live)
    swept: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STORAGE_LOCK])
        _reachable_parts(Snapshot.objects.filter(pk__gt=watermark).values_list("content", flat=True), live)
        dead = [sha for sha in DocumentPart.objects.values_list("sha256", flat=True).iterator(5000) if sha not in live]
        swept["parts"] = sum(DocumentPart.objects.filter(sha256__in=shas).delete()[0] for shas in _chunks(dead, 1000))
        for field, set_model, record_model in (
            ("container_set", ContainerSet, ContainerRecord),
            ("image_set", ImageSet, ImageRecord),
            ("network_set", NetworkSet, NetworkRecord),
        ):
            used = Snapshot.objects.filter(**{field: OuterRef("pk")})
            swept[field] = set_model.objects.filter(~Exists(used)).delete()[1].get(set_model._meta.label, 0)
            swept[record_model._meta.model_name] = _delete_unlisted(record_model, set_model)
    return swept


def _delete_unlisted(record_model: Any, set_model: Any) -> int:
    """Delete the records no set lists; returns how many."""
    records, sets = record_model._meta.db_table, set_model._meta.db_table
    if connection.vendor == "postgresql":
        listed = f"SELECT u.id FROM {sets} s CROSS JOIN LATERAL unnest(s.records) AS u(id)"
    else:
        listed = f"SELECT j.value FROM {sets} s JOIN json_each(s.records) j"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {records} WHERE id NOT IN ({listed})")  # noqa: S608 (table names, no input)
        return cursor.rowcount


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def parse_labels(value: Any, path: str = "labels") -> dict[str, str]:
    """Labels as {key: value} strings; raises SnapshotRejected naming the bad key (the same rule as agent.labels)."""
    if not isinstance(value, dict):
        raise SnapshotRejected(path, "expected an object of key: value strings")
    check_labels(value, path)
    return dict(value)


def set_host_labels(host_id: int, labels: dict[str, str], *, by: Any, request: Any = None) -> Host:
    """Replace the labels an admin sets on a host, and so its effective labels; the change is audited."""
    from audit.choices import AuditAction
    from audit.services import record

    labels = parse_labels(labels)
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host_id)
        before = dict(host.labels or {})
        if before != labels:
            host.labels = labels
            relabel_host(host)
            host.save(update_fields=["labels", "effective_labels"])
            record(AuditAction.CHANGE, host, actor=by, request=request, changes={"labels": [before, labels]})
    return host
