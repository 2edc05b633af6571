"""Root conftest: plugins shared by the whole suite, and settings every test process needs."""

import os
from pathlib import Path

pytest_plugins = ["tests.podman"]


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    # The test client and the session-wide live server speak plain HTTP; the live server builds its middleware once,
    # so the HTTPS redirect must be off before any test starts it.
    settings.SECURE_SSL_REDIRECT = False
    # The fixture users need no real password hashing; PBKDF2 would cost a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        _isolate_xdist_worker(settings, worker)


def _isolate_xdist_worker(settings, worker: str) -> None:  # type: ignore[no-untyped-def]
    """`make test` runs the suite in parallel (pytest-xdist). pytest-django gives each worker its own test database;
    here each also gets its own var directory (uploads, report files, the signing pair) and its own Redis database
    for the broker, so the tests that run a real Celery worker never take each other's tasks."""
    index = int(worker.removeprefix("gw") or 0)
    var_dir = Path(settings.VAR_DIR) / "xdist" / worker
    (var_dir / "media").mkdir(parents=True, exist_ok=True)
    settings.VAR_DIR = var_dir
    settings.MEDIA_ROOT = var_dir / "media"
    # Read by prometheus_client when a counter value is first created, so set before any test counts an ingest.
    (var_dir / "prometheus").mkdir(exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(var_dir / "prometheus")
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        base, _, db = broker.rpartition("/")
        if "//" in base and (db == "" or db.isdigit()):
            isolated = f"{base}/{int(db or 0) + 1 + index}"
            from plimsoll.celery import app

            settings.CELERY_BROKER_URL = isolated
            app.conf.broker_url = isolated
            os.environ["CELERY_BROKER_URL"] = isolated
