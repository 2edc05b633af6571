"""plimsoll.settings with the ingest counter's middleware, for the test that runs gunicorn with two workers.

The site settings list the middleware once the lead adds it; this module only makes sure the test does not depend
on that, and changes nothing else.
"""

from plimsoll import settings as _base

for _name in dir(_base):
    if _name.isupper():
        globals()[_name] = getattr(_base, _name)

_INGEST = "compliance.metrics.ingest.IngestMetricsMiddleware"
MIDDLEWARE = list(_base.MIDDLEWARE) if _INGEST in _base.MIDDLEWARE else [*_base.MIDDLEWARE, _INGEST]
