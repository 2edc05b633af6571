"""GET /metrics: the Prometheus text format, for a scraper bearing PLIMSOLL_METRICS_TOKEN.

Unset token: 404, as if there were no such page. Wrong or missing token: 401 with a Bearer challenge. The token is
compared in constant time.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from compliance.metrics.collector import PlimsollCollector
from compliance.metrics.ingest import INGEST_RESPONSES, multiprocess_dir


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def build_registry() -> CollectorRegistry:
    """A registry for one scrape: the database collector, and the ingest counter summed over every worker."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(INGEST_RESPONSES)
    registry.register(PlimsollCollector())
    return registry


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.PLIMSOLL_METRICS_TOKEN
    if not expected:
        raise Http404("metrics are off: PLIMSOLL_METRICS_TOKEN is not set")
    if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        response = HttpResponse("a valid metrics token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(build_registry()), content_type=CONTENT_TYPE_LATEST)
