"""Serializers of the estate API: inventory rows with the CIS recommendations that fail on each after the judge."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inventory.serializers import ContainerSerializer, ImageSerializer

FAILING_HELP = "CIS recommendation ids failing on this target after approved exceptions, in natural order."


class _Failing:
    """Reads the failing controls the view computed for the whole page at once (`context["failing"]`)."""

    id_field = ""

    def get_failing(self, obj: Any) -> list[str]:
        failing = self.context.get("failing", {})  # type: ignore[attr-defined]
        return failing.get((obj.snapshot_id, getattr(obj, self.id_field)), [])


class EstateContainerSerializer(_Failing, ContainerSerializer):
    id_field = "container_id"
    hostname = serializers.CharField(source="host.hostname", read_only=True)
    failing = serializers.SerializerMethodField(help_text=FAILING_HELP)

    class Meta(ContainerSerializer.Meta):
        fields = [*ContainerSerializer.Meta.fields, "hostname", "failing"]


class EstateImageSerializer(_Failing, ImageSerializer):
    id_field = "image_id"
    failing = serializers.SerializerMethodField(help_text=FAILING_HELP)

    class Meta(ImageSerializer.Meta):
        fields = [*ImageSerializer.Meta.fields, "failing"]
