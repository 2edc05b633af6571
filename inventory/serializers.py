"""Serializers of the inventory API."""

from rest_framework import serializers

from inventory.choices import EvaluationStatus
from inventory.models import Container, Host, Image, Snapshot


class HostSerializer(serializers.ModelSerializer):
    last_snapshot_container_count = serializers.IntegerField(
        source="last_snapshot.container_count", default=None, allow_null=True, read_only=True
    )
    effective_labels = serializers.JSONField(
        read_only=True,
        help_text="Rule labels, overridden by the agent's, overridden by the admin's: what filters and scopes read.",
    )

    class Meta:
        model = Host
        fields = [
            "id", "machine_id", "hostname", "os_name", "kernel", "arch", "docker_version", "labels", "effective_labels",
            "first_seen_at", "last_collected_at", "last_snapshot", "last_snapshot_container_count",
        ]


class HostLabelsSerializer(serializers.Serializer):
    labels = serializers.DictField(child=serializers.CharField(max_length=63), help_text='e.g. {"env": "prod", "pci": "cde"}')


class SnapshotSerializer(serializers.ModelSerializer):
    hostname = serializers.CharField(source="host.hostname")
    agent = serializers.CharField(source="agent.name", default=None, allow_null=True, read_only=True,
                                  help_text="The agent token's name; null when its token was deleted.")
    agent_errors = serializers.ListField(
        child=serializers.DictField(), read_only=True,
        help_text="What the agent could not collect (the document's agent.errors): collector and error.",
    )

    class Meta:
        model = Snapshot
        fields = [
            "id", "host", "hostname", "agent", "sha256", "schema", "agent_version", "collected_at", "received_at",
            "size_bytes", "container_count", "running_count", "image_count", "agent_errors",
            "evaluation_status", "evaluation_error", "evaluated_at",
        ]


class SnapshotDocumentSerializer(SnapshotSerializer):
    document = serializers.JSONField(read_only=True, help_text="The whole document as stored (Config.Env redacted).")

    class Meta(SnapshotSerializer.Meta):
        fields = [*SnapshotSerializer.Meta.fields, "document"]


class ContainerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Container
        fields = ["id", "snapshot", "host", "container_id", "name", "image", "image_id", "state", "running", "created"]


class ContainerDetailSerializer(ContainerSerializer):
    raw = serializers.JSONField(read_only=True, help_text="GET /containers/{id}/json as the agent sent it (Env redacted).")
    top = serializers.JSONField(read_only=True, allow_null=True, help_text="GET /containers/{id}/top, null when stopped.")

    class Meta(ContainerSerializer.Meta):
        fields = [*ContainerSerializer.Meta.fields, "raw", "top"]


class ImageSerializer(serializers.ModelSerializer):
    hostname = serializers.CharField(source="host.hostname", read_only=True)

    class Meta:
        model = Image
        fields = ["id", "snapshot", "host", "hostname", "image_id", "tags", "created", "size"]


class ImageDetailSerializer(ImageSerializer):
    raw = serializers.JSONField(read_only=True, help_text="GET /images/{id}/json as the agent sent it.")
    history = serializers.JSONField(read_only=True, allow_null=True, help_text="GET /images/{id}/history.")

    class Meta(ImageSerializer.Meta):
        fields = [*ImageSerializer.Meta.fields, "raw", "history"]


class SnapshotAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    host = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    evaluation = serializers.ChoiceField(choices=EvaluationStatus.choices, help_text="queued for a new snapshot.")
