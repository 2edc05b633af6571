"""Plimsoll site package: settings, URLs, the Celery app and the compliance domain."""

from compliance.celery import app as celery_app

__all__ = ["celery_app"]
