"""frameworks.services: the helpers other apps use."""

from frameworks.loader import LoadReport
from frameworks.services import cis_recommendations, current_framework, mapped_source_ref_ids


def test_it_keys_cis_recommendations_by_ref_id(catalogs: LoadReport) -> None:
    recommendations = cis_recommendations("1.6.0")

    assert len(recommendations) == 117
    assert recommendations["5.5"].title == "Ensure that privileged containers are not used"
    assert cis_recommendations("9.9.9") == {}


def test_it_lists_the_cis_ids_mapped_to_each_requirement_in_one_query(catalogs: LoadReport, django_assert_num_queries) -> None:
    pci = current_framework("pci-dss-4.0")

    with django_assert_num_queries(1):
        mapped = mapped_source_ref_ids(pci)

    assert len(mapped["2.2.1"]) == 117
    assert {"2.7"} <= mapped["2.2.7"]
    assert "2.2" not in mapped


def test_it_rolls_mapped_ids_up_the_tree_on_request(catalogs: LoadReport) -> None:
    hipaa = current_framework("hipaa-security-rule")

    mapped = mapped_source_ref_ids(hipaa, include_descendants=True)

    assert mapped["164.308(a)(1)(ii)(B)"] <= mapped["164.308(a)(1)(i)"] <= mapped["164.308"]
    assert "1.1.1" in mapped["164.308"]
