"""Signals the inventory sends; the compliance domain listens, so the inventory never imports it."""

from django.dispatch import Signal

# Sent once a new snapshot is committed, with `snapshot_id`: the compliance app queues its evaluation.
snapshot_stored = Signal()
