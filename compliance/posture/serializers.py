"""Serializers of the posture API: plain dataclasses rendered as JSON, with a schema for drf-spectacular."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rest_framework import serializers

from common.schema import CatalogSlugField
from compliance.posture.choices import RequirementStatus
from compliance.posture.models import Assessment, PostureRecord
from compliance.posture.services import Posture


class CountsSerializer(serializers.Serializer):
    passing = serializers.IntegerField()
    failing = serializers.IntegerField()
    excepted = serializers.IntegerField()
    attested = serializers.IntegerField()
    manual = serializers.IntegerField()
    error = serializers.IntegerField()
    info = serializers.IntegerField()
    not_applicable = serializers.IntegerField()


class FailingControlSerializer(serializers.Serializer):
    control = serializers.CharField()
    hosts = serializers.IntegerField()
    targets = serializers.IntegerField()


class RequirementPostureSerializer(serializers.Serializer):
    ref_id = serializers.CharField()
    title = serializers.CharField()
    depth = serializers.IntegerField()
    parent = serializers.CharField(allow_null=True)
    assessable = serializers.BooleanField()
    status = serializers.ChoiceField(choices=RequirementStatus.choices)
    controls = serializers.ListField(child=serializers.CharField(), help_text="CIS Docker recommendations mapped here.")
    counts = CountsSerializer()
    failing = FailingControlSerializer(many=True)
    evidence = serializers.ListField(child=serializers.IntegerField(), help_text="Evidence ids counted here.")
    exceptions = serializers.ListField(child=serializers.IntegerField(), help_text="Exception ids that excepted a result.")
    stopped_failing = serializers.IntegerField(help_text="Failing stopped containers (listed, not counted by default).")


class GroupSummarySerializer(serializers.Serializer):
    ref_id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=RequirementStatus.choices)
    assessable = serializers.IntegerField()
    failing = serializers.IntegerField()
    needs_evidence = serializers.IntegerField()
    passing = serializers.IntegerField()
    not_covered = serializers.IntegerField(help_text="Requirements no CIS check or evidence covers: assessed outside Docker.")
    covered = serializers.IntegerField(help_text="Requirements a CIS check or evidence decides: assessable - not_covered.")
    share_passing = serializers.FloatField(allow_null=True, help_text="passing / covered; null when nothing is covered.")


class SummarySerializer(serializers.Serializer):
    hosts = serializers.IntegerField(help_text="Hosts in scope.")
    hosts_without_results = serializers.IntegerField(help_text="In-scope hosts with no judged snapshot at that moment.")
    assessable = serializers.IntegerField()
    failing = serializers.IntegerField()
    needs_evidence = serializers.IntegerField()
    passing = serializers.IntegerField()
    not_covered = serializers.IntegerField(help_text="Requirements no CIS check or evidence covers: assessed outside Docker.")
    covered = serializers.IntegerField(help_text="Requirements a CIS check or evidence decides: assessable - not_covered.")
    share_passing = serializers.FloatField(allow_null=True, help_text="passing / covered; null when nothing is covered.")
    groups = GroupSummarySerializer(many=True)


class FrameworkRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    urn = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    revision = serializers.IntegerField()


class PostureSerializer(serializers.Serializer):
    framework = FrameworkRefSerializer()
    scope = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    include_stopped = serializers.BooleanField()
    summary = SummarySerializer()
    requirements = RequirementPostureSerializer(many=True)

    @staticmethod
    def from_posture(posture: Posture) -> dict[str, Any]:
        fw = posture.framework
        return {
            "framework": {"slug": fw.slug, "urn": fw.urn, "name": fw.name, "version": fw.version, "revision": fw.revision},
            "scope": str(posture.selector),
            "as_of": posture.as_of,
            "include_stopped": posture.include_stopped,
            "summary": posture.summary.as_dict(),
            "requirements": [asdict(r) for r in posture.requirements],
        }


class AssessmentSerializer(serializers.ModelSerializer):
    framework_slug = CatalogSlugField(help_text="e.g. pci-dss-4.0")

    class Meta:
        model = Assessment
        fields = ["id", "name", "framework_slug", "selector", "include_stopped", "description", "created_at"]


class PostureRecordSerializer(serializers.ModelSerializer):
    framework_slug = CatalogSlugField()

    class Meta:
        model = PostureRecord
        fields = ["id", "framework_slug", "selector", "day", "recorded_at", "hosts", "summary"]
