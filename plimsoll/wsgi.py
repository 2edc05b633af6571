"""WSGI entry point (gunicorn plimsoll.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plimsoll.settings")
application = get_wsgi_application()
