"""Prometheus metrics at /metrics, answered only with PLIMSOLL_METRICS_TOKEN."""
