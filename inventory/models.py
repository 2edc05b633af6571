"""Inventory models: agent tokens, hosts, snapshots (immutable evidence) and the objects each snapshot holds."""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.functional import cached_property

from inventory.choices import EvaluationStatus
from inventory.parts import (  # noqa: F401  (re-exported: the storage names were defined here)
    DELTA_MARK,
    SKELETON_MARK,
    STORAGE_LOCK,
    DocumentPart,
    MissingPart,
    deflate_against,
    inflate_against,
)
from inventory.rowsets import (  # noqa: F401  (re-exported: the row storage was defined here)
    ROW_ID_SPAN,
    VIEW_COLUMNS,
    ContainerRecord,
    ContainerSet,
    ImageRecord,
    ImageSet,
    NetworkRecord,
    NetworkSet,
    ViewRowIdField,
    row_digest,
    view_sql,
)

TOKEN_PREFIX = "plm_"


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough; no salt is needed against guessing.
    return hashlib.sha256(raw.encode()).hexdigest()


class AgentToken(models.Model):
    """A credential an agent uses to push snapshots. Active until revoked; the secret is stored only as its hash.

    A host token is bound to the one host it enrols (its first push); a fleet token, created explicitly, enrols new
    hosts and pushes for the hosts it enrolled. Neither pushes for a host bound to another token.
    """

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False, help_text="First characters of the token, to recognise it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    fleet = models.BooleanField(
        default=False, help_text="Enrols new hosts (many); a host token is bound to the one host it enrols."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, name: str, created_by: Any = None, fleet: bool = False) -> tuple[AgentToken, str]:
        """Create a token; the raw secret is returned once and never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name, token_hash=hash_token(raw), prefix=raw[:12], created_by=created_by, fleet=fleet
        )
        return token, raw

    @classmethod
    def lookup(cls, raw: str) -> AgentToken | None:
        return cls.objects.filter(token_hash=hash_token(raw)).first()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class Host(models.Model):
    """A Docker host, identified by its machine_id; its facts are those of its latest snapshot."""

    machine_id = models.CharField(max_length=128, unique=True)
    hostname = models.CharField(max_length=255)
    os_name = models.CharField(max_length=255, blank=True)
    kernel = models.CharField(max_length=255, blank=True)
    arch = models.CharField(max_length=64, blank=True)
    docker_version = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=dict, blank=True, help_text="Labels an admin set, e.g. {\"env\": \"prod\"}.")
    agent_labels = models.JSONField(default=dict, blank=True, help_text="Labels from the agent's configuration.")
    effective_labels = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Rule labels, overridden by the agent's, overridden by the admin's; kept current by inventory.labels.",
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_snapshot = models.ForeignKey(
        "inventory.Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_collected_at = models.DateTimeField(null=True, blank=True)
    last_agent = models.ForeignKey(AgentToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="hosts")
    agent_token = models.ForeignKey(
        AgentToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="bound_hosts",
        help_text="The token this host is bound to: only it may push for the host. Clear it to enrol the host again.",
    )

    class Meta:
        ordering = ["hostname", "id"]

    def __str__(self) -> str:
        return self.hostname


class LabelRule(models.Model):
    """A rule that labels hosts by their facts: hosts whose `fact` matches the glob `pattern` get `key=value`."""

    class Fact(models.TextChoices):
        HOSTNAME = "hostname", "Hostname"
        OS_NAME = "os_name", "Operating system"
        KERNEL = "kernel", "Kernel"
        ARCH = "arch", "Architecture"
        DOCKER_VERSION = "docker_version", "Docker version"
        MACHINE_ID = "machine_id", "Machine id"

    key = models.CharField(max_length=63)
    value = models.CharField(max_length=63, blank=True)
    fact = models.CharField(max_length=32, choices=Fact.choices, default=Fact.HOSTNAME)
    pattern = models.CharField(max_length=255, help_text="Glob, e.g. db*.example.internal")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "fact", "pattern"]

    def __str__(self) -> str:
        return f"{self.key}={self.value} when {self.fact} ~ {self.pattern}"

    def applies_to(self, host: Any) -> bool:
        return fnmatchcase(str(getattr(host, self.fact) or ""), self.pattern)


def effective_labels(host: Any, rules: list[LabelRule]) -> dict[str, str]:
    """A host's labels: rule labels first, then the agent's, then the admin's (the admin has the last word).

    Computed here, stored on Host.effective_labels by inventory.labels, which every change of an input goes through.
    """
    labels = {rule.key: rule.value for rule in rules if rule.applies_to(host)}
    labels.update(host.agent_labels or {})
    labels.update(host.labels or {})
    return labels


class HostLabels(models.Model):
    """A host's effective labels from `valid_from` until the host's next row: the history a past posture reads."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="label_history")
    labels = models.JSONField(default=dict, blank=True)
    valid_from = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["host_id", "valid_from", "id"]
        indexes = [models.Index(fields=["host", "valid_from"], name="hostlabels_host_valid_from")]
        verbose_name_plural = "host labels"

    def __str__(self) -> str:
        return f"{self.host_id} from {self.valid_from:%Y-%m-%d %H:%M:%S}"


class SnapshotIsImmutable(Exception):
    """Raised when code tries to change the evidence a snapshot holds."""


class SnapshotQuerySet(models.QuerySet):
    """Snapshot.objects, with the one meaning of "the snapshot that stands for a host" at a moment.

    The snapshot that stands for a host at `at` is its latest judged snapshot (evaluation done) collected at or
    before `at`: a newer snapshot still queued, running or failed does not hide the host's results. Pages, the API,
    posture, reevaluate and retention all read it from here.
    """

    def standing_id(self, at: datetime | None = None) -> Subquery:
        """The id of the snapshot that stands for the host OuterRef("pk") at `at` (None: now); NULL if there is none.

        An expression for `Host.objects.annotate(snapshot_id=Snapshot.objects.standing_id(at))`: one correlated
        subquery per row of one query, so the cost does not grow in queries with the number of hosts.
        """
        judged = self.model._default_manager.filter(host=OuterRef("pk"), evaluation_status=EvaluationStatus.DONE)
        if at is not None:
            judged = judged.filter(collected_at__lte=at)
        return Subquery(judged.order_by("-collected_at", "-id").values("id")[:1])

    def standing(self, at: datetime | None = None) -> SnapshotQuerySet:
        """These snapshots narrowed to those that stand for their host at `at` (None: now), in one query."""
        ids = Host.objects.annotate(standing_id=self.standing_id(at)).filter(standing_id__isnull=False)
        return self.filter(pk__in=ids.values("standing_id"))


class Snapshot(models.Model):
    """One collection from one host, kept unchanged as evidence. Evaluation: queued -> running -> done | failed."""

    MUTABLE_FIELDS = frozenset({"evaluation_status", "evaluation_error", "evaluated_at"})

    # Found by host through the (host, collected_at) indexes below: no index of its own.
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="snapshots", db_index=False)
    agent = models.ForeignKey(AgentToken, null=True, on_delete=models.SET_NULL, related_name="snapshots")
    # Unique: a hash exclusion constraint on PostgreSQL, a unique index on SQLite (common/hash_unique.py).
    sha256 = models.CharField(max_length=64, help_text="sha256 of the canonical JSON document as stored.")
    schema = models.CharField(max_length=64)
    agent_version = models.CharField(max_length=64, blank=True)
    collected_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    size_bytes = models.PositiveBigIntegerField(help_text="Size of the canonical document in bytes.")
    content = models.BinaryField(
        help_text="The document's skeleton, gzip-compressed: its canonical JSON with each large part replaced by a "
        "reference to a DocumentPart (see docs/storage.md)."
    )
    container_count = models.PositiveIntegerField(default=0)
    running_count = models.PositiveIntegerField(default=0)
    image_count = models.PositiveIntegerField(default=0)
    evaluation_status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED
    )
    evaluation_error = models.TextField(blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    previous_sha256 = models.CharField(
        max_length=64, blank=True, default="",
        help_text="sha256 of the host's previous snapshot in ingest order (empty for its first): the hash chain.",
    )
    container_set = models.ForeignKey(
        "inventory.ContainerSet", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    image_set = models.ForeignKey("inventory.ImageSet", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    network_set = models.ForeignKey(
        "inventory.NetworkSet", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [
            models.Index(fields=["host", "-collected_at"], name="snapshot_host_collected"),
            # The standing snapshot's lookup: the newest judged snapshot of a host, without walking queued ones.
            models.Index(
                fields=["host", "-collected_at", "-id"], name="snapshot_host_judged",
                condition=Q(evaluation_status=EvaluationStatus.DONE),
            ),
            # The sweeper, metrics and the overview look for snapshots not judged (yet): the judged are not indexed.
            models.Index(
                fields=["evaluation_status", "received_at"], name="snapshot_unjudged",
                condition=~Q(evaluation_status=EvaluationStatus.DONE),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.host} @ {self.collected_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE_FIELDS:
                raise SnapshotIsImmutable("a stored snapshot is evidence; only its evaluation state may change")
        super().save(*args, **kwargs)

    @staticmethod
    def pack(canonical: bytes) -> bytes:
        # mtime=0 keeps the stored bytes a pure function of the document.
        return gzip.compress(canonical, compresslevel=1, mtime=0)

    @classmethod
    def pack_skeleton(cls, skeleton: bytes, has_parts: bool) -> bytes:
        # A leading NUL (never the first byte of JSON) marks a skeleton; content without it is the whole document.
        return cls.pack(SKELETON_MARK + skeleton if has_parts else skeleton)

    @staticmethod
    def pack_delta(unpacked: bytes, base_sha: str, base: bytes) -> bytes:
        """Content stored as a delta: DELTA_MARK, the base part's sha256 (32 bytes), then `unpacked` (NUL and the
        skeleton) deflated with the base's stored form as the preset dictionary."""
        return DELTA_MARK + bytes.fromhex(base_sha) + deflate_against(unpacked, base)

    @staticmethod
    def content_base(content: bytes | memoryview) -> str | None:
        """The sha256 of the part a delta content is deflated against; None for gzip content."""
        head = bytes(content[:33])
        return head[1:].hex() if head[:1] == DELTA_MARK else None

    @classmethod
    def unpack_content(cls, content: bytes | memoryview, bases: dict[str, bytes] | None = None) -> bytes:
        """Stored content decompressed: NUL and the skeleton, or a whole document (see docs/storage.md)."""
        content = bytes(content)
        base_sha = cls.content_base(content)
        if base_sha is None:
            return gzip.decompress(content)
        base = bases[base_sha] if bases and base_sha in bases else DocumentPart.keyframes({base_sha})[base_sha]
        return inflate_against(content[33:], base)

    @classmethod
    def unpack_contents(cls, contents: list[bytes | memoryview]) -> list[bytes]:
        """Many stored contents decompressed, the parts they are deltas against fetched in one query."""
        bases = DocumentPart.keyframes({b for c in contents if (b := cls.content_base(c)) is not None})
        return [cls.unpack_content(content, bases) for content in contents]

    @property
    def skeleton(self) -> bytes | None:
        """The stored form of the document (canonical JSON with references to parts), None if stored whole."""
        stored = self.unpack_content(self.content)
        return stored[1:] if stored[:1] == SKELETON_MARK else None

    @property
    def canonical(self) -> bytes:
        """The exact bytes the sha256 was taken over, reassembled from the skeleton and its parts."""
        return DocumentPart.canonical(self.unpack_content(self.content))

    @cached_property
    def document(self) -> dict[str, Any]:
        """The snapshot document as stored (Config.Env redacted)."""
        return json.loads(self.canonical)

    def verify(self) -> bool:
        """True when the stored document still hashes to the sha256 recorded at ingest."""
        return hashlib.sha256(self.canonical).hexdigest() == self.sha256

    @cached_property
    def agent_errors(self) -> list[Any]:
        """What the agent could not collect (the document's agent.errors), read from the stored skeleton."""
        return self.agent_errors_of([self.pk])[self.pk]

    @classmethod
    def load_agent_errors(cls, snapshots: Any) -> None:
        """Read the agent errors of many snapshots at once (a page of a list): two queries however many."""
        snapshots = [s for s in snapshots if "agent_errors" not in s.__dict__]
        errors = cls.agent_errors_of([s.pk for s in snapshots])
        for snapshot in snapshots:
            snapshot.__dict__["agent_errors"] = errors.get(snapshot.pk, [])

    @classmethod
    def agent_errors_of(cls, ids: list[int]) -> dict[int, list[Any]]:
        """snapshot id -> its document's agent.errors. The agent object is never stored apart from the skeleton,
        so the skeleton is read (a host's first skeleton is itself a part: one more query for those)."""
        rows = list(cls.objects.filter(pk__in=ids).values_list("pk", "content"))
        roots: dict[int, Any] = {}
        for (pk, _), stored in zip(rows, cls.unpack_contents([content for _, content in rows]), strict=True):
            roots[pk] = json.loads(stored[1:] if stored[:1] == SKELETON_MARK else stored)
        refs = {root[1:] for root in roots.values() if isinstance(root, str) and root[:1] == "\x00"}
        if refs:
            forms = DocumentPart.unpack_rows(DocumentPart.objects.filter(sha256__in=refs).values_list("sha256", "data"))
            roots |= {pk: json.loads(forms[root[1:]]) for pk, root in roots.items() if isinstance(root, str)}
        return {pk: list((root.get("agent") or {}).get("errors") or []) for pk, root in roots.items()}


class PrunedSnapshot(models.Model):
    """What retention keeps of a deleted snapshot: its place in its host's hash chain (same id, sha256, previous)."""

    id = models.BigIntegerField(primary_key=True, help_text="The id the snapshot had: its place in ingest order.")
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="pruned_snapshots")
    sha256 = models.CharField(max_length=64)
    previous_sha256 = models.CharField(max_length=64, blank=True, default="")
    collected_at = models.DateTimeField()
    pruned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["host_id", "id"]
        indexes = [models.Index(fields=["host", "-id"], name="prunedsnapshot_host_id")]

    def __str__(self) -> str:
        return f"{self.host_id} #{self.id} (pruned)"


class Container(models.Model):
    """A container as one snapshot saw it (running or stopped); `raw` is its inspect object in the snapshot document.

    A read model: the database view inventory_container joins each snapshot to its container set and records
    (written by inventory.services). The raw Engine API objects are in the snapshot document; rows carry the fields
    pages and filters need, and the position of the object in the document.
    """

    id = ViewRowIdField(primary_key=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.DO_NOTHING, related_name="containers")
    host = models.ForeignKey(Host, on_delete=models.DO_NOTHING, related_name="containers")
    container_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    image = models.CharField(max_length=512, blank=True, help_text="Config.Image: the image name the container was created from.")
    image_id = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=32, blank=True)
    running = models.BooleanField(default=False)
    created = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(help_text="Index in the snapshot's docker.containers.")

    class Meta:
        managed = False
        db_table = "inventory_container"
        ordering = ["snapshot_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def raw(self) -> dict[str, Any]:
        """The GET /containers/{id}/json object, as stored in the snapshot document."""
        return self.snapshot.document["docker"]["containers"][self.position]["inspect"]

    @property
    def top(self) -> dict[str, Any] | None:
        return self.snapshot.document["docker"]["containers"][self.position].get("top")


class Image(models.Model):
    """An image as one snapshot saw it; `raw` and `history` are read from the snapshot document.

    A read model over the view inventory_image (snapshot -> image set -> records), like Container.
    """

    id = ViewRowIdField(primary_key=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.DO_NOTHING, related_name="images")
    host = models.ForeignKey(Host, on_delete=models.DO_NOTHING, related_name="images")
    image_id = models.CharField(max_length=128)
    tags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(help_text="Index in the snapshot's docker.images.")

    class Meta:
        managed = False
        db_table = "inventory_image"
        ordering = ["snapshot_id", "image_id"]

    def __str__(self) -> str:
        return self.tags[0] if self.tags else self.image_id[:19]

    @property
    def raw(self) -> dict[str, Any]:
        """The GET /images/{id}/json object, as stored in the snapshot document."""
        return self.snapshot.document["docker"]["images"][self.position]["inspect"]

    @property
    def history(self) -> list[Any] | None:
        return self.snapshot.document["docker"]["images"][self.position].get("history")


class Network(models.Model):
    """A Docker network as one snapshot saw it; a read model over the view inventory_network, like Container."""

    id = ViewRowIdField(primary_key=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.DO_NOTHING, related_name="networks")
    host = models.ForeignKey(Host, on_delete=models.DO_NOTHING, related_name="networks")
    network_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=64, blank=True)
    position = models.PositiveIntegerField(help_text="Index in the snapshot's docker.networks.")

    class Meta:
        managed = False
        db_table = "inventory_network"
        ordering = ["snapshot_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def raw(self) -> dict[str, Any]:
        """The GET /networks/{id} object, as stored in the snapshot document."""
        return self.snapshot.document["docker"]["networks"][self.position]
