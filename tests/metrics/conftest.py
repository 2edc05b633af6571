"""Metrics fixtures: the judged estate builders of the posture tests, a scraper, and the ingest counter on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.posture.conftest import catalogs, judged_host  # noqa: F401  (fixtures shared with the posture tests)

TOKEN = "metrics-token-for-tests-0123456789"
INGEST_MIDDLEWARE = "compliance.metrics.ingest.IngestMetricsMiddleware"


@pytest.fixture(autouse=True)
def _metrics_on(settings: Any) -> None:
    settings.PLIMSOLL_METRICS_TOKEN = TOKEN
    # A background refresh reads through its own connection, which cannot see a test's uncommitted rows: tests judge
    # at once, except the one about the background refresh.
    settings.PLIMSOLL_METRICS_POSTURE_IN_BACKGROUND = False
    if INGEST_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, INGEST_MIDDLEWARE]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Cached postures are keyed by database state; a rolled-back test may leave the same state with other rows."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = parse(text)

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]

    def get(self, name: str, default: float = 0.0, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), default)

    def series(self, name: str) -> list[dict[str, str]]:
        return [dict(labels) for (n, labels) in self.samples if n == name]


@pytest.fixture
def scrape(db: None) -> Callable[[], Scrape]:
    def get() -> Scrape:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content[:500]
        assert response["Content-Type"].startswith("text/plain; version=")
        return Scrape(response.content.decode())

    return get
