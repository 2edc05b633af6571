"""After a change, a scrape serves the last posture metrics at once and a background thread recomputes them."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _wait_for_refresh() -> None:
    for thread in threading.enumerate():
        if thread.name == "plimsoll-metrics-posture":
            thread.join(timeout=120)


def test_a_change_is_served_stale_once_then_refreshed(judged_host, scrape, settings):
    settings.PLIMSOLL_METRICS_POSTURE_IN_BACKGROUND = True
    judged_host("first", {"2.5": ["fail"]})
    first = scrape()  # nothing cached in this process: computed at once
    assert first.value("plimsoll_cis_failing_targets", control="2.5") == 1
    judged_host("second", {"2.5": ["fail"]})
    served = scrape()  # the fingerprint changed: the last values, and a refresh in the background
    assert served.value("plimsoll_cis_failing_targets", control="2.5") == 1
    assert served.value("plimsoll_posture_computed_timestamp_seconds") == first.value(
        "plimsoll_posture_computed_timestamp_seconds")
    _wait_for_refresh()
    refreshed = scrape()
    assert refreshed.value("plimsoll_cis_failing_targets", control="2.5") == 2
    assert refreshed.value("plimsoll_posture_computed_timestamp_seconds") > first.value(
        "plimsoll_posture_computed_timestamp_seconds")
    # The gauges read from the database at scrape time are never stale.
    assert served.value("plimsoll_hosts", freshness="fresh") + served.value("plimsoll_hosts", freshness="stale") == 2
