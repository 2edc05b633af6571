"""PCI DSS v4.0.1: its own catalog and crosswalk beside v4.0, the version in force; posture, records, reports and the
dashboard name the exact version, and what was recorded under v4.0 keeps naming v4.0."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from compliance.dashboard.overview import framework_cards
from compliance.posture.models import PostureRecord
from compliance.posture.services import compute_posture
from compliance.reports.services import request_report
from frameworks.loader import CATALOG_DIR, CatalogError, load_catalogs
from frameworks.models import Framework, Mapping, Requirement
from tests.posture.conftest import judged_host  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
V40, V401 = "pci-dss-4.0", "pci-dss-4.0.1"


def tree(slug: str) -> list[tuple[str, str | None, int, str, bool]]:
    rows = Requirement.objects.filter(framework__slug=slug, framework__is_current=True).order_by("order")
    return list(rows.values_list("ref_id", "parent__ref_id", "depth", "kind", "assessable"))


def rows(slug: str) -> set[tuple[str, str, str]]:
    mappings = Mapping.objects.filter(crosswalk__is_current=True, target__framework__slug=slug)
    return set(mappings.values_list("source__ref_id", "target__ref_id", "relationship"))


def test_it_loads_beside_v40_with_the_same_numbering(catalogs):
    old, new = Framework.objects.get(slug=V40), Framework.objects.get(slug=V401)
    assert (new.name, new.version, new.urn) == ("PCI DSS", "4.0.1", "urn:plimsoll:framework:pci-dss-4.0.1")
    assert new.published_on == datetime.date(2024, 6, 11)
    assert old.is_current and new.is_current
    assert tree(V401) == tree(V40)
    assert len(tree(V401)) == 367 and sum(r[4] for r in tree(V401)) == 351


def test_it_is_the_version_in_force_and_v40_points_to_it(catalogs):
    assert new_in_force() == ["cis-docker-1.6.0", "gdpr", "hipaa-security-rule", V401]
    old = Framework.objects.get(slug=V40)
    assert old.superseded_by == Framework.objects.get(slug=V401)
    assert Framework.objects.get(slug=V401).superseded_by is None


def new_in_force() -> list[str]:
    return sorted(Framework.objects.in_force().values_list("slug", flat=True))


def test_its_crosswalk_maps_what_v40s_does(catalogs):
    assert rows(V401) == rows(V40)
    assert len(rows(V401)) == 275
    assert Mapping.objects.filter(crosswalk__slug="cis-docker-1.6.0-to-pci-dss-4.0.1").count() == 275
    text = yaml.safe_load((CATALOG_DIR / "pci-dss-4.0.1.yaml").read_text())
    changed = next(r for r in text["requirements"] if r["ref_id"] == "6.3.3")
    assert "critical vulnerabilities only" in changed["summary"]


def test_a_catalog_that_supersedes_something_else_than_a_framework_urn_is_refused(db, tmp_path: Path):
    source = yaml.safe_load((CATALOG_DIR / "pci-dss-4.0.1.yaml").read_text())
    for bad, message in [("pci-dss-4.0", "must be a framework URN"), (source["urn"], "names the framework itself"),
                         (4.0, "must be a string")]:
        source["supersedes"] = bad
        path = tmp_path / "pci-dss-4.0.1.yaml"
        path.write_text(yaml.safe_dump(source, sort_keys=False))
        with pytest.raises(CatalogError, match=message):
            load_catalogs([path])
        assert not Framework.objects.exists()


def test_its_posture_names_the_exact_version_and_agrees_with_v40(judged_host, bob, api_client_for):  # noqa: F811
    judged_host("cde-1", {"2.5": ["fail"], "4.4": ["manual"], "1.1.3": ["pass"]}, labels={"pci": "cde"})
    client = api_client_for(bob)
    old, new = (client.get(f"/api/v1/posture/{slug}/").json() for slug in (V40, V401))
    assert new["framework"]["slug"] == V401 and new["framework"]["version"] == "4.0.1"
    assert old["framework"]["version"] == "4.0"
    assert [(r["ref_id"], r["status"]) for r in new["requirements"]] == [
        (r["ref_id"], r["status"]) for r in old["requirements"]
    ]
    assert compute_posture(V401).requirement("6.3.3").status == "needs_evidence"  # 4.4 is manual


def test_records_and_reports_keep_naming_the_version_they_were_made_under(judged_host, alice):  # noqa: F811
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"},
                at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3))
    old_report = request_report(by=alice, kind="framework", framework=V40)
    call_command("record_posture", "--backfill", "5", stdout=io.StringIO())
    new_report = request_report(by=alice, kind="framework", framework=V401)
    assert (old_report.framework_slug, old_report.framework_urn) == (V40, "urn:plimsoll:framework:pci-dss-4.0")
    assert (new_report.framework_slug, new_report.framework_urn) == (V401, "urn:plimsoll:framework:pci-dss-4.0.1")
    days = {slug: set(PostureRecord.objects.filter(framework_slug=slug, selector="").values_list("day", flat=True))
            for slug in (V40, V401)}
    assert len(days[V401]) == 4 and days[V40] == days[V401]  # three days back and today


def test_the_overview_shows_v401_with_its_trend_after_a_backfill(judged_host):  # noqa: F811
    judged_host("cde-1", {"2.5": ["fail"]}, labels={"pci": "cde"},
                at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3))
    call_command("record_posture", "--backfill", "5", stdout=io.StringIO())
    now = datetime.datetime.now(datetime.UTC)
    cards = {card.framework.slug: card for card in framework_cards(30, now)}
    assert V401 in cards
    card = cards[V401]
    assert str(card.framework) == "PCI DSS 4.0.1"
    assert len(card.points) >= 4 and all(p.summary["failing"] >= 1 for p in card.points)


def test_make_run_loads_both(db):
    out = io.StringIO()
    call_command("load_frameworks", stdout=out)
    assert "loaded pci-dss-4.0.1.yaml" in out.getvalue() and "loaded pci-dss-4.0.yaml" in out.getvalue()
    assert "loaded cis-docker-1.6.0-to-pci-dss-4.0.1.yaml" in out.getvalue()
