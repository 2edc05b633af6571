"""Read-side helpers over the loaded catalogs, for the CIS engine, posture and reports."""

from collections import defaultdict

from frameworks.models import Framework, Mapping, Requirement

CIS_DOCKER_URN = "urn:plimsoll:framework:cis-docker-{version}"


def current_framework(slug: str) -> Framework:
    """The current revision of the framework with this slug; raises Framework.DoesNotExist."""
    return Framework.objects.get(slug=slug, is_current=True)


def cis_recommendations(version: str = "1.6.0") -> dict[str, Requirement]:
    """The assessable CIS Docker recommendations of the current catalog revision, keyed by ref_id (e.g. "5.5")."""
    requirements = Requirement.objects.filter(
        framework__urn=CIS_DOCKER_URN.format(version=version), framework__is_current=True, assessable=True
    ).select_related("framework")
    return {requirement.ref_id: requirement for requirement in requirements}


def mapped_source_ref_ids(framework: Framework, include_descendants: bool = False) -> dict[str, set[str]]:
    """For each requirement of `framework`, the ref_ids of the source requirements (CIS recommendations) mapped to it.

    One query through the current crosswalks. With `include_descendants`, a node also collects what is mapped to the
    nodes under it (one more query, for the tree).
    """
    mapped: dict[str, set[str]] = defaultdict(set)
    for target, source in Mapping.objects.filter(target__framework=framework, crosswalk__is_current=True).values_list(
        "target__ref_id", "source__ref_id"
    ):
        mapped[target].add(source)
    if include_descendants:
        parents = dict(framework.requirements.values_list("ref_id", "parent__ref_id"))
        for target, sources in list(mapped.items()):
            parent = parents.get(target)
            while parent is not None:
                mapped[parent] |= sources
                parent = parents.get(parent)
    return dict(mapped)
