from typing import Any

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from inventory.signals import snapshot_stored

        snapshot_stored.connect(_queue_evaluation, dispatch_uid="compliance.queue_evaluation")
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="compliance.ensure_roles")


def _queue_evaluation(sender: Any, snapshot_id: int, **kwargs: Any) -> None:
    from compliance.services import enqueue_evaluation

    enqueue_evaluation(snapshot_id)


def _ensure_roles(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """The role groups and their permissions after every migrate and every flush (the migrations create them once; a
    flush, as transactional tests do, would leave a database where nobody can be given a role)."""
    from django.apps import apps

    from compliance.migrations._roles import grant

    grant(apps, None)
