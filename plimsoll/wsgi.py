"""WSGI entry point (gunicorn plimsoll.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from common.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
application = get_wsgi_application()
# Import every view now rather than on the first request, then keep the collector off this startup heap.
get_resolver().url_patterns  # noqa: B018 (the URLconf loads on first access)
freeze_startup_heap()
