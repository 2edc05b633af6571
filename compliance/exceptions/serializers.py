"""Serializers of the exceptions API."""

from __future__ import annotations

from rest_framework import serializers

from compliance.exceptions.models import TEXT_MAX_LENGTH, RiskAcceptance
from inventory.models import Host


class RiskAcceptanceSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="effective_status", read_only=True, help_text="expired is computed from expires_at.")
    scope_host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all(), allow_null=True, required=False)
    scope_host_name = serializers.CharField(source="scope_host.hostname", read_only=True, default=None, allow_null=True)
    scope = serializers.CharField(source="scope_display", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", read_only=True, default=None, allow_null=True)
    rejected_by = serializers.CharField(source="rejected_by.username", read_only=True, default=None, allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, default=None, allow_null=True)
    is_stale = serializers.SerializerMethodField()

    class Meta:
        model = RiskAcceptance
        fields = [
            "id", "control", "status", "scope_kind", "scope_selector", "scope_host", "scope_host_name",
            "scope_container_pattern", "scope_image", "scope", "justification", "compensating_controls", "risk_rating",
            "requested_by", "requested_at", "expires_at", "approved_by", "approved_at", "rejected_by", "rejected_at",
            "decision_note", "revoked_by", "revoked_at", "revocation_reason", "last_matched_at", "stale_since", "is_stale",
            "revision",
        ]
        read_only_fields = [
            "requested_at", "approved_at", "rejected_at", "decision_note", "revoked_at", "revocation_reason",
            "last_matched_at", "stale_since", "revision",
        ]
        extra_kwargs = {"expires_at": {"help_text": "Mandatory; at most PLIMSOLL_EXCEPTION_MAX_DAYS (365) days ahead."}}

    def get_is_stale(self, obj: RiskAcceptance) -> bool:
        return obj.is_stale()


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)


class ApprovalSerializer(DecisionSerializer):
    revision = serializers.IntegerField(
        min_value=1, help_text="The revision of the request you reviewed (its `revision` field); 409 if it changed since."
    )
