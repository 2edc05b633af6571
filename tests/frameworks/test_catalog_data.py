"""The shipped catalogs and crosswalks agree with the reference data and keep the crosswalk invariants."""

import csv
from pathlib import Path

import pytest

from frameworks.choices import Kind
from frameworks.loader import LoadReport
from frameworks.models import Crosswalk, Mapping, Requirement
from frameworks.services import cis_recommendations

REFERENCE_CSV = Path(__file__).parent / "data" / "cis_docker_benchmark_v1.6.0.csv"
PCI_DEFINED = {Kind.DEFINED_REQUIREMENT}
HIPAA_NODES = {Kind.STANDARD, Kind.IMPLEMENTATION_SPECIFICATION}


def reference_rows() -> dict[str, dict[str, str]]:
    with REFERENCE_CSV.open(newline="") as fh:
        return {row["id"]: row for row in csv.DictReader(fh)}


def test_it_has_the_117_cis_ids_with_the_reference_assessment_and_level(catalogs: LoadReport) -> None:
    reference = reference_rows()
    recommendations = cis_recommendations()

    assert len(reference) == 117
    assert set(recommendations) == set(reference)
    for ref_id, row in reference.items():
        recommendation = recommendations[ref_id]
        assert recommendation.assessment == row["assessment_cis_pdf"].lower(), ref_id
        assert recommendation.level == row["level"], ref_id
        assert recommendation.title == row["title"], ref_id
        assert recommendation.section == row["section"], ref_id
        assert recommendation.summary, ref_id


@pytest.mark.parametrize(
    ("crosswalk", "kinds"),
    [("cis-docker-1.6.0-to-pci-dss-4.0", PCI_DEFINED), ("cis-docker-1.6.0-to-hipaa-security-rule", HIPAA_NODES)],
)
def test_it_maps_every_recommendation_to_pci_dss_and_hipaa(catalogs: LoadReport, crosswalk: str, kinds: set) -> None:
    mapped = set(
        Mapping.objects.filter(crosswalk__slug=crosswalk, target__kind__in=kinds).values_list("source__ref_id", flat=True)
    )

    assert mapped == set(cis_recommendations())


def test_it_points_every_mapping_at_the_crosswalks_own_frameworks(catalogs: LoadReport) -> None:
    for crosswalk in Crosswalk.objects.all():
        mappings = crosswalk.mappings.select_related("source", "target")
        assert mappings.exists()
        for mapping in mappings:
            assert mapping.source.framework_id == crosswalk.source_framework_id
            assert mapping.target.framework_id == crosswalk.target_framework_id
            assert mapping.source.assessable and mapping.target.assessable
            assert mapping.rationale and mapping.provenance


def test_it_maps_gdpr_mostly_to_article_32_and_never_to_a_chapter(catalogs: LoadReport) -> None:
    gdpr = Mapping.objects.filter(crosswalk__slug="cis-docker-1.6.0-to-gdpr")
    targets = set(gdpr.values_list("target__ref_id", flat=True))

    assert "32(1)(b)" in targets
    assert {"25(1)", "33(1)"} <= targets
    assert not gdpr.filter(target__kind=Kind.CHAPTER).exists()
    assert gdpr.filter(target__ref_id__startswith="32(").values("source").distinct().count() > 100


def test_it_gives_paragraph_nodes_only_where_a_mapping_points(catalogs: LoadReport) -> None:
    paragraphs = set(
        Requirement.objects.filter(framework__slug="gdpr", kind__in=[Kind.PARAGRAPH, Kind.POINT]).values_list("ref_id", flat=True)
    )
    targets = set(Mapping.objects.filter(crosswalk__slug="cis-docker-1.6.0-to-gdpr").values_list("target__ref_id", flat=True))
    parents = {"5(1)", "32(1)"}

    assert paragraphs - parents <= targets
