"""The drill-down's pages read only the snapshots holding their rows (posture.services.standing_slice): every slice
equals the same slice of all the requirement's rows, listed in the drill-down's order, whatever its size and place."""

from __future__ import annotations

import pytest

from compliance.dashboard.drilldown import DrillDown, Filters
from compliance.models import STOPPED, Result
from compliance.posture.services import compute_posture, ref_key

SLUG, REF = "pci-dss-4.0", "2.2.1"  # maps most CIS checks


@pytest.fixture
def fleet(judged_host):
    # Twelve hosts, not created in hostname order; rows of several controls and kinds; stopped containers left out.
    for i in (7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 6, 4):
        judged_host(f"h{i:02d}", {
            "2.5": ["fail"] if i % 3 else ["pass"],
            "5.4": ["fail@web-1", "fail@api-1", "fail@stopped"] if i % 2 else ["pass@web-1"],
            "1.1.3": ["manual"],
            "5.9": ["error@web-1"] if i == 4 else ["pass@web-1"],
        })


@pytest.mark.parametrize("include_stopped", [False, True])
def test_every_slice_is_the_same_slice_of_all_the_rows(fleet, include_stopped):
    posture = compute_posture(SLUG, include_stopped=include_stopped)
    node = posture.requirement(REF)
    rows = Result.objects.filter(is_current=True, control__in=node.controls, status__in=["fail", "manual", "error"])
    if not include_stopped:
        rows = rows.exclude(STOPPED)
    expected = [r.pk for r in sorted(rows.select_related("host"), key=lambda r: (
        ref_key(r.control), r.host.hostname, r.target_kind, r.target_name, r.pk))]
    drill = DrillDown(posture, node, Filters())
    assert drill.count() == len(expected) > 30
    for size in (1, 2, 3, 7, 100):
        for start in range(0, len(expected), max(size // 2, 1)):
            assert [r.result.pk for r in drill[start:start + size]] == expected[start:start + size], (size, start)


def test_a_host_filter_pages_that_host_s_rows(fleet):
    posture = compute_posture(SLUG)
    node = posture.requirement(REF)
    drill = DrillDown(posture, node, Filters(host="h05"))
    every = [r.result.pk for r in drill[0:drill.count()]]
    assert every and {r.host.hostname for r in drill[0:drill.count()]} == {"h05"}
    assert [r.result.pk for s in range(len(every)) for r in drill[s:s + 1]] == every
