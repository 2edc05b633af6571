"""Serializers of the compliance API."""

from rest_framework import serializers

from compliance.models import Evaluation, Result


class ResultSerializer(serializers.ModelSerializer):
    hostname = serializers.CharField(source="host.hostname")
    target = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = [
            "id", "control", "status", "host", "hostname", "snapshot", "evaluation", "target", "evidence", "expected",
            "message", "is_current",
        ]

    def get_target(self, obj: Result) -> dict[str, str]:
        return {"kind": obj.target_kind, "name": obj.target_name, "id": obj.target_id, "state": obj.target_state}


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = ["id", "snapshot", "benchmark", "engine_version", "status", "error", "is_current", "started_at",
                  "finished_at", "counts", "policy"]
