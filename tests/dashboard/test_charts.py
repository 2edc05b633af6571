"""Charts: plain SVG with a title and a text alternative, the same facts in both, agent text escaped."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

from compliance.dashboard.charts import status_bar, trend

SVG = "{http://www.w3.org/2000/svg}"


def test_it_draws_a_status_bar_with_its_words():
    chart = status_bar({"failing": 3, "needs_evidence": 0, "passing": 9, "not_covered": 4}, "PCI DSS <v4.0>")
    root = ET.fromstring(str(chart.svg))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == chart.text
    assert chart.text == "PCI DSS <v4.0>: 3 failing, 0 needs evidence, 9 passing, 4 not covered (total 16)."
    widths = [float(r.get("width")) for r in root.findall(f"{SVG}rect")[:3]]
    assert widths == [480 * 3 / 16, 480 * 9 / 16, 480 * 4 / 16]


def test_it_draws_a_trend_from_daily_records():
    day = datetime.date(2026, 11, 1)
    records = [{"day": day + datetime.timedelta(days=i), "summary": {"passing": 10 + i, "failing": 5 - i,
                                                                      "needs_evidence": 2}} for i in range(4)]
    chart = trend(list(reversed(records)), "CIS Docker")
    root = ET.fromstring(str(chart.svg))
    assert len(root.findall(f"{SVG}polyline")) == 3
    assert chart.text == ("CIS Docker, 2026-11-01 to 2026-11-04 (4 days): passing 10 to 13, failing 5 to 2, "
                          "needs evidence 2 to 2.")


def test_it_says_when_there_is_no_record_yet():
    chart = trend([], "GDPR")
    assert chart.text == "GDPR: no daily records yet."
    ET.fromstring(str(chart.svg))
