"""The Celery application. Without CELERY_BROKER_URL, tasks run in-process (see settings)."""

import os

from celery import Celery
from celery.signals import worker_process_init

from common.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")

app = Celery("plimsoll")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _sweep_interval(sender: Celery, **kwargs: object) -> None:
    """The sweeper runs every minute (settings.CELERY_BEAT_SCHEDULE); PLIMSOLL_SWEEP_EVERY_SECONDS runs it more often
    (the fault tests, tests/faults/, run it every second so that recovery is measured in seconds)."""
    every = os.environ.get("PLIMSOLL_SWEEP_EVERY_SECONDS")
    if every and "sweep-evaluations" in sender.conf.beat_schedule:
        entry = dict(sender.conf.beat_schedule["sweep-evaluations"], schedule=float(every))
        sender.conf.beat_schedule = {**sender.conf.beat_schedule, "sweep-evaluations": entry}


@worker_process_init.connect
def _freeze_startup_heap(**kwargs: object) -> None:
    """A worker child keeps Django and the apps loaded for its life: keep the collector off them (common/heap.py)."""
    freeze_startup_heap()
