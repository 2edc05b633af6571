"""An auditor walks the estate in Chromium: hosts -> host -> snapshot -> diff; the host list, the host page (with
its results filtered too) and the snapshot page have no serious or critical accessibility violation."""

from __future__ import annotations

import datetime

from tests.browser.conftest import serious_violations
from tests.hosts.conftest import T0, catalogs, push  # noqa: F401  (fixtures: the real engine judges the snapshots)


def _privileged_web(doc):
    for item in doc["docker"]["containers"]:
        if item["inspect"]["Name"] == "/pl-web":
            item["inspect"]["HostConfig"]["Privileged"] = True


def test_an_auditor_walks_from_the_host_list_to_a_diff(page, live_server, user_with_role, log_in, push):  # noqa: F811
    push("db")
    first = push("web")
    second = push("web", at=T0 + datetime.timedelta(hours=6), change=_privileged_web)
    user_with_role("audrey", "auditor")
    log_in(page, "audrey")

    page.goto(f"{live_server.url}/hosts/")
    assert page.locator("h1").inner_text() == "Hosts"
    assert page.locator("table tbody tr").count() == 2
    assert serious_violations(page) == []

    page.click("text=web")
    page.wait_for_load_state()
    assert page.url.endswith(f"/hosts/{second.host_id}/")
    assert page.locator("h1").inner_text().startswith("web")
    assert page.locator("details summary", has_text="Host Configuration").count() == 1
    assert serious_violations(page) == []

    page.locator("select[name=status]").select_option("fail")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "status=fail" in page.url and page.locator("details[open]").count() >= 1
    assert serious_violations(page) == []

    page.click(f"a[href='/snapshots/{second.pk}/']")
    page.wait_for_load_state()
    assert "Snapshot of web" in page.locator("h1").inner_text()
    assert page.locator("text=verified").count() >= 1
    assert page.locator("#results ~ details summary", has_text="Container Runtime").count() == 1
    assert serious_violations(page) == []

    page.click("text=compare with previous")
    page.wait_for_load_state()
    assert page.url.endswith(f"/snapshots/{first.pk}/diff/{second.pk}/")
    assert page.locator("h1").inner_text() == "What changed on web"
    changed = page.locator("#containers ~ div table tbody tr", has_text="Privileged")
    assert changed.count() == 1 and "pl-web" in changed.inner_text()
    flipped = page.locator("#flipped ~ div table tbody tr", has_text="pl-web")
    assert flipped.filter(has_text="5.5").count() == 1
