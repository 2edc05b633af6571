"""Inventory tasks."""

from celery import shared_task

from inventory import services


@shared_task(name="inventory.prune_snapshots")
def prune_snapshots() -> int:
    """Apply the snapshot retention setting (a no-op while it is 0)."""
    return services.prune_snapshots()
