from typing import Any

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from inventory.signals import snapshot_stored

        snapshot_stored.connect(_queue_evaluation, dispatch_uid="compliance.queue_evaluation")


def _queue_evaluation(sender: Any, snapshot_id: int, **kwargs: Any) -> None:
    from compliance.services import enqueue_evaluation

    enqueue_evaluation(snapshot_id)
