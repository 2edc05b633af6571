"""manage.py load_frameworks and the loader behind it."""

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from frameworks.choices import Kind
from frameworks.loader import CatalogError, LoadReport, load_catalogs
from frameworks.models import Crosswalk, Framework, Mapping, Requirement

pytestmark = pytest.mark.django_db

EditYaml = Callable[[Path, Callable[[dict], None]], None]


def snapshot() -> tuple:
    return (
        sorted(Framework.objects.values_list("urn", "revision", "sha256", "is_current")),
        Requirement.objects.count(),
        sorted(Crosswalk.objects.values_list("urn", "revision", "is_current")),
        Mapping.objects.count(),
    )


def kind_count(slug: str, kind: str) -> int:
    return Requirement.objects.filter(framework__slug=slug, framework__is_current=True, kind=kind).count()


def test_it_loads_the_counts_the_issue_asks_for(catalogs: LoadReport) -> None:
    assert len(catalogs.loaded) == 9
    assert kind_count("cis-docker-1.6.0", Kind.RECOMMENDATION) == 117
    assert Requirement.objects.filter(framework__slug="cis-docker-1.6.0", assessable=True).count() == 117

    pci = Requirement.objects.filter(framework__slug="pci-dss-4.0")
    assert pci.count() == 367
    assert kind_count("pci-dss-4.0", Kind.PRINCIPAL_REQUIREMENT) == 12
    assert pci.filter(assessable=True).count() == 351
    assert set(pci.filter(depth=1).values_list("ref_id", flat=True)) == {str(n) for n in range(1, 13)} | {"A"}

    assert kind_count("hipaa-security-rule", Kind.STANDARD) == 22
    assert kind_count("hipaa-security-rule", Kind.IMPLEMENTATION_SPECIFICATION) == 43
    hipaa = Requirement.objects.filter(framework__slug="hipaa-security-rule")
    assert hipaa.filter(kind=Kind.IMPLEMENTATION_SPECIFICATION, implementation="required").count() == 21
    assert hipaa.filter(kind=Kind.IMPLEMENTATION_SPECIFICATION, implementation="addressable").count() == 22

    assert kind_count("gdpr", Kind.ARTICLE) == 99
    assert Requirement.objects.get(framework__slug="gdpr", ref_id="32(1)(b)").parent.ref_id == "32(1)"


def test_it_builds_the_tree_with_depth_and_order() -> None:
    load_catalogs()
    node = Requirement.objects.get(framework__slug="pci-dss-4.0", ref_id="9.5.1.2.1")
    assert node.depth == 5
    assert node.section == "9"
    assert node.parent.parent.ref_id == "9.5.1"
    assert node.urn == "urn:plimsoll:req:pci-dss-4.0:9.5.1.2.1"
    orders = list(Requirement.objects.filter(framework__slug="cis-docker-1.6.0").values_list("ref_id", flat=True))
    assert orders[:3] == ["1", "1.1", "1.1.1"]
    assert orders.index("1.2") == orders.index("1.1.18") + 1


def test_it_changes_nothing_when_loaded_twice(catalogs: LoadReport) -> None:
    before = snapshot()

    report = load_catalogs()

    assert report.loaded == []
    assert len(report.skipped) == 9
    assert snapshot() == before


def test_it_loads_frameworks_before_crosswalks_whatever_the_argument_order(catalog_copy: Path) -> None:
    files = sorted(catalog_copy.glob("*.yaml"), reverse=True)  # crosswalks (cis-docker-1.6.0-to-*) come last

    report = load_catalogs(files)

    assert all("-to-" not in name for name in report.loaded[:5])
    assert all("-to-" in name for name in report.loaded[5:])
    assert Mapping.objects.count() > 0


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "pci-dss-4.0.yaml",
            lambda d: d["requirements"][12].update(parent="2.9"),
            "pci-dss-4.0.yaml: requirements[12].parent '2.9' does not exist",
        ),
        (
            "pci-dss-4.0.yaml",
            lambda d: d["requirements"][5].update(ref_id="1.1"),
            "pci-dss-4.0.yaml: requirements[5].ref_id '1.1' is a duplicate of requirements[1]",
        ),
        ("pci-dss-4.0.yaml", lambda d: d.pop("name"), "pci-dss-4.0.yaml: name is required"),
        (
            "hipaa-security-rule.yaml",
            lambda d: d["requirements"][3].update(implementation="optional"),
            "hipaa-security-rule.yaml: requirements[3].implementation 'optional' is not one of required, addressable",
        ),
        (
            "gdpr.yaml",
            lambda d: d["requirements"][0].update(titel="typo"),
            "gdpr.yaml: requirements[0].titel is not a known key",
        ),
        (
            "cis-docker-1.6.0.yaml",
            lambda d: d["requirements"][2].update(ref_id=1.1),
            "cis-docker-1.6.0.yaml: requirements[2].ref_id must be a string",
        ),
        (
            "cis-docker-1.6.0-to-pci-dss-4.0.yaml",
            lambda d: d["mappings"][3].update(target="2.2.9"),
            "cis-docker-1.6.0-to-pci-dss-4.0.yaml: mappings[3].target '2.2.9' does not exist in "
            "urn:plimsoll:framework:pci-dss-4.0",
        ),
        (
            "cis-docker-1.6.0-to-gdpr.yaml",
            lambda d: d["mappings"][0].update(source="9.9"),
            "cis-docker-1.6.0-to-gdpr.yaml: mappings[0].source '9.9' does not exist",
        ),
        (
            "cis-docker-1.6.0-to-hipaa-security-rule.yaml",
            lambda d: d["mappings"][1].update(relationship="overlaps"),
            "cis-docker-1.6.0-to-hipaa-security-rule.yaml: mappings[1].relationship 'overlaps' is not one of "
            "equal, subset, superset, intersect",
        ),
        (
            "cis-docker-1.6.0-to-hipaa-security-rule.yaml",
            lambda d: d["mappings"].append(dict(d["mappings"][0])),
            "repeats the pair",
        ),
    ],
)
def test_it_refuses_a_bad_file_naming_file_and_key_and_writes_nothing(
    catalog_copy: Path, edit_yaml: EditYaml, file: str, change: Callable[[dict], None], message: str
) -> None:
    load_catalogs()  # the shipped catalogs, so a later bad load must leave them exactly as they are
    before = snapshot()
    edit_yaml(catalog_copy / file, change)
    for other in catalog_copy.glob("*.yaml"):
        if other.name != file:
            edit_yaml(other, lambda d: d.update(revision=d["revision"] + 1))

    with pytest.raises(CatalogError) as caught:
        load_catalogs([catalog_copy])

    assert message in str(caught.value)
    assert snapshot() == before


def test_it_refuses_a_changed_file_that_keeps_its_revision(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    load_catalogs([catalog_copy])
    before = snapshot()
    edit_yaml(catalog_copy / "gdpr.yaml", lambda d: d.update(description="changed"))

    with pytest.raises(CatalogError) as caught:
        load_catalogs([catalog_copy])

    assert "gdpr.yaml: revision 1 of urn:plimsoll:framework:gdpr is already loaded with different content" in str(caught.value)
    assert snapshot() == before


def test_it_refuses_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("urn: [unclosed\n")

    with pytest.raises(CatalogError) as caught:
        load_catalogs([tmp_path])

    assert str(caught.value).startswith("broken.yaml: is not valid YAML")
    assert Framework.objects.count() == 0


def test_it_loads_a_new_revision_beside_the_old_one(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    load_catalogs([catalog_copy])
    old = Framework.objects.get(slug="pci-dss-4.0")
    old_requirement = old.requirements.get(ref_id="2.2.1")

    def bump(data: dict) -> None:
        data["revision"] = 2
        data["requirements"][0]["title"] = "Network security controls, reworded"

    edit_yaml(catalog_copy / "pci-dss-4.0.yaml", bump)
    report = load_catalogs([catalog_copy])

    assert report.loaded == ["pci-dss-4.0.yaml"]
    assert any("cis-docker-1.6.0-to-pci-dss-4.0.yaml" in warning for warning in report.warnings)
    revisions = Framework.objects.filter(slug="pci-dss-4.0").order_by("revision")
    assert [(f.revision, f.is_current) for f in revisions] == [(1, False), (2, True)]
    assert Requirement.objects.filter(framework__slug="pci-dss-4.0").count() == 2 * 367
    old_requirement.refresh_from_db()
    assert old_requirement.framework_id == old.pk
    assert old_requirement.mappings_as_target.exists()  # what was mapped under revision 1 stays true
    assert revisions[1].requirements.get(ref_id="1").title == "Network security controls, reworded"


def test_it_rebinds_a_crosswalk_when_its_revision_is_raised(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    load_catalogs([catalog_copy])
    edit_yaml(catalog_copy / "pci-dss-4.0.yaml", lambda d: d.update(revision=2))
    edit_yaml(catalog_copy / "cis-docker-1.6.0-to-pci-dss-4.0.yaml", lambda d: d.update(revision=2))

    load_catalogs([catalog_copy])

    current = Crosswalk.objects.get(slug="cis-docker-1.6.0-to-pci-dss-4.0", is_current=True)
    assert current.revision == 2
    assert current.target_framework == Framework.objects.get(slug="pci-dss-4.0", is_current=True)
    assert Crosswalk.objects.filter(slug=current.slug).count() == 2


def test_it_refuses_an_older_revision(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    edit_yaml(catalog_copy / "gdpr.yaml", lambda d: d.update(revision=3))
    load_catalogs([catalog_copy / "gdpr.yaml"])
    edit_yaml(catalog_copy / "gdpr.yaml", lambda d: d.update(revision=2))

    with pytest.raises(CatalogError, match="gdpr.yaml: revision 2 is older than the loaded revision 3"):
        load_catalogs([catalog_copy / "gdpr.yaml"])


def test_it_loads_a_crosswalk_against_frameworks_already_in_the_database(catalog_copy: Path) -> None:
    frameworks = [p for p in catalog_copy.glob("*.yaml") if "-to-" not in p.name]
    load_catalogs(frameworks)

    load_catalogs([catalog_copy / "cis-docker-1.6.0-to-gdpr.yaml"])

    assert Crosswalk.objects.get().slug == "cis-docker-1.6.0-to-gdpr"


def test_the_command_reports_what_it_did(db: None) -> None:
    out = StringIO()

    call_command("load_frameworks", stdout=out)
    call_command("load_frameworks", stdout=out)

    assert "loaded pci-dss-4.0.yaml" in out.getvalue()
    assert "unchanged pci-dss-4.0.yaml" in out.getvalue()


def test_the_command_fails_with_the_reason_and_loads_nothing(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    edit_yaml(catalog_copy / "pci-dss-4.0.yaml", lambda d: d["requirements"][12].update(parent="2.9"))

    with pytest.raises(CommandError, match=r"pci-dss-4.0.yaml: requirements\[12\].parent '2.9' does not exist"):
        call_command("load_frameworks", str(catalog_copy))

    assert Framework.objects.count() == 0


def test_it_refuses_a_second_urn_with_a_loaded_slug_and_writes_nothing(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    load_catalogs()
    before = snapshot()
    acme = catalog_copy.parent / "acme.yaml"
    acme.write_bytes((catalog_copy / "pci-dss-4.0.yaml").read_bytes())
    edit_yaml(acme, lambda d: d.update(urn="urn:acme:framework:pci-dss-4.0"))

    with pytest.raises(CatalogError) as caught:
        load_catalogs([acme])

    assert (
        "acme.yaml: framework.urn 'urn:acme:framework:pci-dss-4.0' has slug 'pci-dss-4.0', already used by "
        "'urn:plimsoll:framework:pci-dss-4.0'"
    ) in caught.value.problems
    assert snapshot() == before


def test_it_refuses_two_urns_with_one_slug_in_the_same_load(catalog_copy: Path, edit_yaml: EditYaml) -> None:
    edit_yaml(catalog_copy / "gdpr.yaml", lambda d: d.update(urn="urn:acme:framework:pci-dss-4.0"))

    with pytest.raises(CatalogError) as caught:
        load_catalogs([catalog_copy])

    assert "has slug 'pci-dss-4.0', already used by" in str(caught.value)
    assert snapshot() == ([], 0, [], 0)


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "gdpr.yaml",
            lambda d: d.update(urn="urn:plimsoll:framework:" + "g" * 101),
            "gdpr.yaml: framework.urn 'urn:plimsoll:framework:" + "g" * 101 + "' has a slug longer than 100 characters",
        ),
        (
            "cis-docker-1.6.0-to-gdpr.yaml",
            lambda d: d.update(urn="urn:plimsoll:crosswalk:" + "c" * 151),
            "cis-docker-1.6.0-to-gdpr.yaml: crosswalk.urn 'urn:plimsoll:crosswalk:" + "c" * 151
            + "' has a slug longer than 150 characters",
        ),
        ("gdpr.yaml", lambda d: d.update(urn="urn:x:framework:" + "g" * 190), "gdpr.yaml: urn is longer than 200 characters"),
        (
            "gdpr.yaml",
            lambda d: d.update(revision=2**31),
            f"gdpr.yaml: revision must be an integer from 1 to {2**31 - 1}, not {2**31}",
        ),
        ("gdpr.yaml", lambda d: d.update(revision=0), "gdpr.yaml: revision must be an integer from 1"),
        ("gdpr.yaml", lambda d: d["requirements"][0].update(ref_id="r" * 65), "requirements[0].ref_id is longer than 64"),
        ("gdpr.yaml", lambda d: d["requirements"][0].update(title="t" * 301), "requirements[0].title is longer than 300"),
        ("gdpr.yaml", lambda d: d.update(name="n" * 201), "gdpr.yaml: name is longer than 200 characters"),
    ],
)
def test_it_refuses_values_the_database_cannot_hold(
    catalog_copy: Path, edit_yaml: EditYaml, file: str, change: Callable[[dict], None], message: str
) -> None:
    edit_yaml(catalog_copy / file, change)

    with pytest.raises(CatalogError) as caught:
        load_catalogs([catalog_copy])

    assert message in str(caught.value)
    assert snapshot() == ([], 0, [], 0)


def test_its_length_limits_are_the_columns_limits() -> None:
    from frameworks import loader

    for model, keys, renamed in [
        (Framework, loader.FRAMEWORK_KEYS, {}),
        (Crosswalk, loader.CROSSWALK_KEYS, {"source_framework": None, "target_framework": None}),
        (Requirement, loader.REQUIREMENT_KEYS, {"parent": "ref_id"}),
        (Mapping, loader.MAPPING_KEYS, {"source": None, "target": None}),
    ]:
        for key, (_, limit) in keys.items():
            column = renamed.get(key, key)
            if column is None or limit is None:
                continue
            field = model._meta.get_field(column)
            assert limit == (field.max_length or limit), (model.__name__, key)
    assert loader.SLUG_MAX_LENGTH == {"framework": 100, "crosswalk": 150}
