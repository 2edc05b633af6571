"""Serializers of the evidence API. Requirements are named by `framework-slug:ref_id` (or by id)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from compliance.evidence.models import Evidence
from frameworks.models import Requirement
from inventory.models import Host


class RequirementRefSerializer(serializers.Serializer):
    """How an attached requirement reads back (documentation of RequirementKeyField.to_representation)."""

    id = serializers.IntegerField()
    key = serializers.CharField(help_text="framework-slug:ref_id, e.g. cis-docker-1.6.0:5.5")
    framework = serializers.CharField()
    ref_id = serializers.CharField()
    title = serializers.CharField()


class RequirementKeyField(serializers.RelatedField):
    """Reads `cis-docker-1.6.0:5.5` (the current revision of that framework) or a requirement id; gives an object."""

    default_error_messages = {
        "not_found": "No requirement {value!r} in the current catalogs; use framework-slug:ref_id, e.g. cis-docker-1.6.0:5.5.",
        "invalid": "Expected a requirement key (framework-slug:ref_id) or an id, got {value!r}.",
    }
    KEY_MAX_LENGTH = 300

    def get_queryset(self) -> Any:
        return Requirement.objects.select_related("framework")

    def to_internal_value(self, data: Any) -> Requirement:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid", value=data)
        text = str(data).strip()
        # No database stores a NUL in text, and no key is that long: refused here, not by PostgreSQL.
        if not text or "\x00" in text or len(text) > self.KEY_MAX_LENGTH:
            self.fail("invalid", value=text[:100])
        queryset = self.get_queryset()
        # ASCII digits only: isdigit() is also true of "³", which int() refuses; and an id past 64 bits is no id.
        if text.isascii() and text.isdigit() and len(text) <= 18:
            found = queryset.filter(pk=int(text)).first()
        else:
            slug, _, ref_id = text.partition(":")
            found = queryset.filter(framework__slug=slug, framework__is_current=True, ref_id=ref_id).first()
        if found is None:
            self.fail("not_found", value=text)
        return found

    def to_representation(self, value: Requirement) -> dict[str, Any]:
        return {"id": value.pk, "key": f"{value.framework.slug}:{value.ref_id}", "framework": value.framework.slug,
                "ref_id": value.ref_id, "title": value.title}


class RequirementKeyFieldSchema(OpenApiSerializerFieldExtension):
    """The schema says what the field takes (a key string) and what it gives (an object), each in its direction."""

    target_class = RequirementKeyField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        if direction == "request":
            return {"type": "string", "minLength": 1, "description": "framework-slug:ref_id (e.g. cis-docker-1.6.0:5.5) "
                    "or a requirement id."}
        return auto_schema.resolve_serializer(RequirementRefSerializer, direction).ref


class EvidenceSerializer(serializers.ModelSerializer):
    # `requirements` is written as keys and read as objects: the request gets its own schema component.
    split_request_component = True
    file = serializers.FileField(write_only=True, required=False, allow_null=True, help_text="Multipart; for kind=file.")
    requirements = RequirementKeyField(
        many=True, help_text="Write: framework-slug:ref_id keys (repeat the field in multipart), or ids. "
        "Read: each attached requirement as an object.",
    )
    scope_host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all(), allow_null=True, required=False)
    scope = serializers.CharField(source="scope_display", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    is_valid = serializers.BooleanField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id", "kind", "title", "description", "file", "url", "requirements", "scope_selector", "scope_host", "scope",
            "collected_at", "valid_until", "is_valid", "uploaded_by", "uploaded_at", "original_name", "content_type",
            "size_bytes", "sha256", "download_url",
        ]
        read_only_fields = ["uploaded_at", "original_name", "content_type", "size_bytes", "sha256"]

    def get_download_url(self, obj: Evidence) -> str | None:
        return reverse("evidence-download", args=[obj.pk]) if obj.file else None


class EvidenceChangeSerializer(EvidenceSerializer):
    """A change never replaces the file nor the kind: upload new evidence instead."""

    file = None

    class Meta(EvidenceSerializer.Meta):
        fields = [name for name in EvidenceSerializer.Meta.fields if name != "file"]
        read_only_fields = [*EvidenceSerializer.Meta.read_only_fields, "kind"]
