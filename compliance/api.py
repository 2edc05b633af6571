"""Compliance API: engine results and evaluation runs (read-only)."""

from rest_framework import viewsets

from compliance.filters import ResultFilterSet
from compliance.models import Evaluation, Result
from compliance.serializers import EvaluationSerializer, ResultSerializer


class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Result.objects.select_related("host")
    serializer_class = ResultSerializer
    filterset_class = ResultFilterSet
    ordering_fields = ["id", "control", "status"]
    ordering = ["-snapshot_id", "id"]


class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Evaluation.objects.select_related("policy_content", "tally_set")
    serializer_class = EvaluationSerializer
    filterset_fields = ["snapshot", "status", "engine_version", "is_current"]
    ordering = ["-started_at", "-id"]
