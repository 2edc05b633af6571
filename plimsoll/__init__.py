"""The Plimsoll site: settings, URLs, WSGI and the Celery app. The apps never import it."""

from plimsoll.celery import app as celery_app

__all__ = ["celery_app"]
