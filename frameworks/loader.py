"""Load framework catalogs and crosswalks from YAML: validate and hash every file first, then write in one transaction.

A file whose sha256 matches a loaded revision is skipped. A file with a higher `revision` than the loaded one is added
beside it and becomes current; the old revision stays, so anything recorded against it stays true. Any problem raises
`CatalogError` naming the file and the key, and nothing is written.
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from frameworks.choices import Assessment, Implementation, Kind, ProfileLevel, Relationship, Safeguard
from frameworks.models import Crosswalk, Framework, Mapping, Requirement

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"

URN_RE = re.compile(r"^urn:[a-z0-9][a-z0-9-]*:(?P<type>framework|crosswalk):(?P<slug>[a-z0-9][a-z0-9.-]*)$")

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """A catalog or crosswalk file is invalid; `problems` lists each one as '<file>: <key> <what is wrong>'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class LoadReport:
    """What a load did: files written, files skipped as unchanged, and warnings worth telling the operator."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _File:
    path: Path
    sha256: str
    data: dict[str, Any]
    urn: str = ""
    slug: str = ""
    type: str = ""
    revision: int = 0
    skip: bool = False

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class _Node:
    fields: dict[str, Any]
    parent: str | None
    depth: int
    section: str
    order: int = 0


MAX_REVISION = 2**31 - 1  # PositiveIntegerField: the largest value every database backend stores
SLUG_MAX_LENGTH = {
    "framework": Framework._meta.get_field("slug").max_length,
    "crosswalk": Crosswalk._meta.get_field("slug").max_length,
}

# key -> (required, maximum length of a string value, or None when the value is not a string)
Spec = dict[str, tuple[bool, int | None]]
FRAMEWORK_KEYS: Spec = {
    "urn": (True, 200),
    "revision": (True, None),
    "name": (True, 200),
    "version": (True, 50),
    "publisher": (True, 200),
    "published": (False, None),
    "source": (True, 5000),
    "licence": (True, 5000),
    "description": (False, 5000),
    "supersedes": (False, 200),
    "requirements": (True, None),
}
CROSSWALK_KEYS: Spec = {
    "urn": (True, 200),
    "revision": (True, None),
    "name": (True, 200),
    "source_framework": (True, 200),
    "target_framework": (True, 200),
    "description": (False, 5000),
    "method": (False, 5000),
    "mappings": (True, None),
}
REQUIREMENT_KEYS: Spec = {
    "ref_id": (True, 64),
    "parent": (False, 64),
    "kind": (True, 32),
    "assessable": (True, None),
    "title": (True, 300),
    "summary": (False, 2000),
    "level": (False, 20),
    "assessment": (False, 12),
    "implementation": (False, 12),
    "safeguard": (False, 16),
}
REQUIREMENT_CHOICES = {
    "kind": Kind,
    "level": ProfileLevel,
    "assessment": Assessment,
    "implementation": Implementation,
    "safeguard": Safeguard,
}
MAPPING_KEYS: Spec = {
    "source": (True, 64),
    "target": (True, 64),
    "relationship": (True, 12),
    "rationale": (True, 300),
    "provenance": (True, 300),
}


def catalog_files(paths: Iterable[str | Path] | None = None) -> list[Path]:
    """The YAML files to load: every *.yaml in the given directories (default: frameworks/catalog/) and given files."""
    found: list[Path] = []
    for raw in paths or [CATALOG_DIR]:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file()))
        else:
            found.append(path)
    return found


def load_catalogs(paths: Iterable[str | Path] | None = None) -> LoadReport:
    """Validate every file, then write frameworks before crosswalks in one transaction."""
    problems: list[str] = []
    files = [f for f in (_read(path, problems) for path in catalog_files(paths)) if f is not None]
    frameworks, crosswalks, broken = _classify(files, problems)
    _check_revisions(frameworks, Framework, problems)
    _check_revisions(crosswalks, Crosswalk, problems)
    trees = {f.urn: _validate_framework(f, problems) for f in frameworks}
    for crosswalk in crosswalks:
        _validate_crosswalk(crosswalk, trees, broken, problems)
    if problems:
        raise CatalogError(problems)

    report = LoadReport()
    with transaction.atomic():
        written: dict[str, Framework] = {}
        for f in frameworks:
            if f.skip:
                report.skipped.append(f.name)
                continue
            written[f.urn] = _write_framework(f, trees[f.urn])
            report.loaded.append(f.name)
        for f in crosswalks:
            if f.skip:
                report.skipped.append(f.name)
                stale = {f.data["source_framework"], f.data["target_framework"]} & written.keys()
                report.warnings.extend(
                    f"{f.name}: unchanged, so it stays bound to the previous revision of {urn}; raise its revision "
                    "to map the new one"
                    for urn in sorted(stale)
                )
                continue
            _write_crosswalk(f)
            report.loaded.append(f.name)
    return report


def _read(path: Path, problems: list[str]) -> _File | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc.strerror})")
        return None
    try:
        data = yaml.load(raw, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: is not valid YAML ({' '.join(str(exc).split())})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name}: must be a mapping at the top level")
        return None
    return _File(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=data)


def _classify(files: list[_File], problems: list[str]) -> tuple[list[_File], list[_File], set[str]]:
    """Split files into frameworks and crosswalks; `broken` holds URNs of files already reported as invalid."""
    frameworks: list[_File] = []
    crosswalks: list[_File] = []
    broken: set[str] = set()
    seen: dict[str, str] = {}
    slugs: dict[str, dict[str, _File]] = {"framework": {}, "crosswalk": {}}
    for f in files:
        urn = f.data.get("urn")
        match = URN_RE.match(urn) if isinstance(urn, str) else None
        if match is None:
            problems.append(
                f"{f.name}: urn {urn!r} must look like urn:<namespace>:framework:<slug> or urn:<namespace>:crosswalk:<slug>"
            )
            continue
        if urn in seen:
            problems.append(f"{f.name}: urn {urn!r} is also defined in {seen[urn]}")
            continue
        seen[urn] = f.name
        f.urn, f.type, f.slug = urn, match["type"], match["slug"]
        keys = FRAMEWORK_KEYS if f.type == "framework" else CROSSWALK_KEYS
        if not _check_keys(f.name, "", f.data, keys, problems):
            broken.add(urn)
            continue
        if not _check_slug(f, slugs[f.type], problems):
            broken.add(urn)
            continue
        revision = f.data["revision"]
        if not isinstance(revision, int) or isinstance(revision, bool) or not 1 <= revision <= MAX_REVISION:
            problems.append(f"{f.name}: revision must be an integer from 1 to {MAX_REVISION}, not {revision!r}")
            broken.add(urn)
            continue
        f.revision = revision
        (frameworks if f.type == "framework" else crosswalks).append(f)
    return frameworks, crosswalks, broken


def _check_slug(f: _File, seen: dict[str, _File], problems: list[str]) -> bool:
    """The slug (last URN segment) fits its column and names one URN only, in this load and in the database.

    Pages, the API and posture look frameworks up by slug, so two URNs with one slug would make every lookup fail.
    """
    model: type[Framework] | type[Crosswalk] = Framework if f.type == "framework" else Crosswalk
    limit = SLUG_MAX_LENGTH[f.type]
    where = f"{f.name}: {f.type}.urn {f.urn!r}"
    if len(f.slug) > limit:
        problems.append(f"{where} has a slug longer than {limit} characters")
        return False
    other = seen.get(f.slug)
    if other is not None:
        problems.append(f"{where} has slug {f.slug!r}, already used by {other.urn!r} in {other.name}")
        return False
    taken = model.objects.filter(slug=f.slug).exclude(urn=f.urn).values_list("urn", flat=True).first()
    if taken is not None:
        problems.append(f"{where} has slug {f.slug!r}, already used by {taken!r}")
        return False
    seen[f.slug] = f
    return True


def _check_keys(name: str, where: str, data: Any, keys: Spec, problems: list[str]) -> bool:
    """Unknown keys and missing required keys are errors; string values must be strings within their length."""
    if not isinstance(data, dict):
        problems.append(f"{name}: {where or '(top level)'} must be a mapping")
        return False
    ok = True
    prefix = f"{where}." if where else ""
    for key in data:
        if key not in keys:
            problems.append(f"{name}: {prefix}{key} is not a known key (expected one of {', '.join(keys)})")
            ok = False
    for key, (required, limit) in keys.items():
        value = data.get(key)
        if value is None or value == "":
            if required:
                problems.append(f"{name}: {prefix}{key} is required")
                ok = False
        elif limit is not None and not isinstance(value, str):
            problems.append(f"{name}: {prefix}{key} must be a string, not {value!r} (quote it)")
            ok = False
        elif limit is not None and len(value) > limit:
            problems.append(f"{name}: {prefix}{key} is longer than {limit} characters")
            ok = False
    return ok


def _check_revisions(files: list[_File], model: type[Framework] | type[Crosswalk], problems: list[str]) -> None:
    loaded: dict[str, dict[int, str]] = defaultdict(dict)
    for urn, revision, sha256 in model.objects.filter(urn__in=[f.urn for f in files]).values_list("urn", "revision", "sha256"):
        loaded[urn][revision] = sha256
    for f in files:
        revisions = loaded.get(f.urn, {})
        if revisions.get(f.revision) == f.sha256:
            f.skip = True
        elif f.revision in revisions:
            problems.append(
                f"{f.name}: revision {f.revision} of {f.urn} is already loaded with different content; "
                "raise revision to load the change beside it"
            )
        elif revisions and f.revision < max(revisions):
            problems.append(f"{f.name}: revision {f.revision} is older than the loaded revision {max(revisions)}")


def _validate_framework(f: _File, problems: list[str]) -> dict[str, _Node]:
    data = f.data
    published = data.get("published")
    if published is not None and not isinstance(published, date):
        problems.append(f"{f.name}: published must be a date (YYYY-MM-DD), not {published!r}")
    supersedes = data.get("supersedes")
    if supersedes:
        match = URN_RE.match(supersedes)
        if match is None or match["type"] != "framework":
            problems.append(f"{f.name}: supersedes {supersedes!r} must be a framework URN, urn:<namespace>:framework:<slug>")
        elif supersedes == f.urn:
            problems.append(f"{f.name}: supersedes names the framework itself")
    requirements = data["requirements"]
    if not isinstance(requirements, list):
        problems.append(f"{f.name}: requirements must be a list")
        return {}
    nodes: dict[str, _Node] = {}
    first_seen: dict[str, int] = {}
    for index, item in enumerate(requirements):
        where = f"requirements[{index}]"
        if not _check_keys(f.name, where, item, REQUIREMENT_KEYS, problems):
            continue
        ref_id, parent = item["ref_id"], item.get("parent")
        if ref_id in first_seen:
            problems.append(f"{f.name}: {where}.ref_id {ref_id!r} is a duplicate of requirements[{first_seen[ref_id]}]")
            continue
        first_seen[ref_id] = index
        if not isinstance(item["assessable"], bool):
            problems.append(f"{f.name}: {where}.assessable must be true or false")
        for key, choices in REQUIREMENT_CHOICES.items():
            value = item.get(key)
            if value is not None and value not in choices.values:
                problems.append(f"{f.name}: {where}.{key} {value!r} is not one of {', '.join(choices.values)}")
        if parent is None:
            nodes[ref_id] = _Node(fields=item, parent=None, depth=1, section=ref_id)
        elif parent in nodes:
            nodes[ref_id] = _Node(fields=item, parent=parent, depth=nodes[parent].depth + 1, section=nodes[parent].section)
        elif any(isinstance(later, dict) and later.get("ref_id") == parent for later in requirements[index:]):
            problems.append(f"{f.name}: {where}.parent {parent!r} must come before its children")
        else:
            problems.append(f"{f.name}: {where}.parent {parent!r} does not exist")
    _number_depth_first(nodes)
    return nodes


def _number_depth_first(nodes: dict[str, _Node]) -> None:
    """Order is a depth-first walk with siblings in file order, so sorting by it prints the tree."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for ref_id, node in nodes.items():
        children[node.parent].append(ref_id)
    stack = list(reversed(children[None]))
    position = 0
    while stack:
        ref_id = stack.pop()
        position += 1
        nodes[ref_id].order = position
        stack.extend(reversed(children[ref_id]))


def _framework_ref_ids(urn: str, trees: dict[str, dict[str, _Node]]) -> set[str] | None:
    if urn in trees:
        return set(trees[urn])
    current = Framework.objects.filter(urn=urn, is_current=True).first()
    if current is None:
        return None
    return set(current.requirements.values_list("ref_id", flat=True))


def _validate_crosswalk(f: _File, trees: dict[str, dict[str, _Node]], broken: set[str], problems: list[str]) -> None:
    ends: dict[str, set[str]] = {}
    for end in ("source_framework", "target_framework"):
        urn = f.data[end]
        if urn in broken:
            return  # that framework file's own problems are already reported
        ref_ids = _framework_ref_ids(urn, trees) if isinstance(urn, str) else None
        if ref_ids is None:
            problems.append(f"{f.name}: {end} {urn!r} is neither loaded nor in this load")
            return
        ends[end] = ref_ids
    mappings = f.data["mappings"]
    if not isinstance(mappings, list):
        problems.append(f"{f.name}: mappings must be a list")
        return
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(mappings):
        where = f"mappings[{index}]"
        if not _check_keys(f.name, where, item, MAPPING_KEYS, problems):
            continue
        source, target, relationship = item["source"], item["target"], item["relationship"]
        if source not in ends["source_framework"]:
            problems.append(f"{f.name}: {where}.source {source!r} does not exist in {f.data['source_framework']}")
        if target not in ends["target_framework"]:
            problems.append(f"{f.name}: {where}.target {target!r} does not exist in {f.data['target_framework']}")
        if relationship not in Relationship.values:
            problems.append(f"{f.name}: {where}.relationship {relationship!r} is not one of {', '.join(Relationship.values)}")
        if (source, target) in seen:
            problems.append(f"{f.name}: {where} repeats the pair {source} -> {target} of mappings[{seen[source, target]}]")
        seen[source, target] = index


def _write_framework(f: _File, nodes: dict[str, _Node]) -> Framework:
    data = f.data
    Framework.objects.filter(urn=f.urn, is_current=True).update(is_current=False)
    framework = Framework.objects.create(
        urn=f.urn,
        slug=f.slug,
        revision=f.revision,
        name=data["name"],
        version=data["version"],
        publisher=data["publisher"],
        published_on=data.get("published"),
        source=data["source"],
        licence=data["licence"],
        description=data.get("description") or "",
        supersedes=data.get("supersedes") or "",
        sha256=f.sha256,
    )
    created: dict[str, Requirement] = {}
    by_depth: dict[int, list[tuple[Requirement, str | None]]] = defaultdict(list)
    for ref_id, node in nodes.items():
        item = node.fields
        requirement = Requirement(
            framework=framework,
            ref_id=ref_id,
            depth=node.depth,
            order=node.order,
            section=node.section,
            kind=item["kind"],
            assessable=item["assessable"],
            title=item["title"],
            summary=item.get("summary") or "",
            level=item.get("level") or "",
            assessment=item.get("assessment") or "",
            implementation=item.get("implementation") or "",
            safeguard=item.get("safeguard") or "",
        )
        created[ref_id] = requirement
        by_depth[node.depth].append((requirement, node.parent))
    # Parents get their primary keys one level before their children are inserted.
    for depth in sorted(by_depth):
        level = by_depth[depth]
        for requirement, parent in level:
            if parent is not None:
                requirement.parent = created[parent]
        Requirement.objects.bulk_create([requirement for requirement, _ in level])
    return framework


def _write_crosswalk(f: _File) -> Crosswalk:
    data = f.data
    source = Framework.objects.get(urn=data["source_framework"], is_current=True)
    target = Framework.objects.get(urn=data["target_framework"], is_current=True)
    Crosswalk.objects.filter(urn=f.urn, is_current=True).update(is_current=False)
    crosswalk = Crosswalk.objects.create(
        urn=f.urn,
        slug=f.slug,
        revision=f.revision,
        name=data["name"],
        description=data.get("description") or "",
        method=data.get("method") or "",
        source_framework=source,
        target_framework=target,
        sha256=f.sha256,
    )
    source_ids = dict(source.requirements.values_list("ref_id", "pk"))
    target_ids = dict(target.requirements.values_list("ref_id", "pk"))
    Mapping.objects.bulk_create(
        Mapping(
            crosswalk=crosswalk,
            source_id=source_ids[item["source"]],
            target_id=target_ids[item["target"]],
            relationship=item["relationship"],
            rationale=item["rationale"],
            provenance=item["provenance"],
            order=index,
        )
        for index, item in enumerate(data["mappings"])
    )
    return crosswalk
