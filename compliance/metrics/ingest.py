"""Ingest answers by HTTP status code: a counter that lives in the web processes, summed over every worker.

Each gunicorn worker counts the answers it gives. With PROMETHEUS_MULTIPROC_DIR set (before prometheus_client is
first imported: the settings module sets it), every worker writes its counts to its own file in that directory and
/metrics sums the files of all workers, dead ones included, so a total never depends on which worker answers the
scrape. Without it (the embedded mode, one process) the count is kept in memory.

Settings: MIDDLEWARE gets "compliance.metrics.ingest.IngestMetricsMiddleware" (anywhere: it only reads the answer).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter

# The route of POST /api/v1/snapshots/ (inventory.api_urls: the router's list route of "snapshots").
INGEST_ROUTE = "snapshot-list"

# registry=None: each scrape builds its own registry (compliance.metrics.views), so nothing is registered globally.
INGEST_RESPONSES = Counter(
    "plimsoll_ingest_responses",
    "Answers to snapshot pushes (POST /api/v1/snapshots/) by HTTP status code, over every web worker.",
    ["code"],
    registry=None,
)


def multiprocess_dir() -> str | None:
    """The directory the workers share their counters in, when the multiprocess mode is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def is_ingest(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return request.method == "POST" and match is not None and match.url_name == INGEST_ROUTE


class IngestMetricsMiddleware:
    """Counts every answer to a snapshot push by its status code (refusals and errors included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_ingest(request):
            INGEST_RESPONSES.labels(code=str(response.status_code)).inc()
        return response
