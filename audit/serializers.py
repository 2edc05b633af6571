"""Serializers of the audit log API (read-only)."""

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    object_type = serializers.CharField(source="object_label", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "timestamp", "actor", "actor_id", "action", "object_type", "object_id", "object_repr", "changes", "ip"]
        read_only_fields = fields
