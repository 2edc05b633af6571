"""The layout has no circles: walk the imports of the source tree and fail on a cycle, on Django or Celery reached
from the CIS engine, and on the agent importing the server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("plimsoll", "common", "audit", "compliance", "inventory", "frameworks")
# Who may import whom (besides itself): the site on top, the shared kernel at the bottom.
ALLOWED = {
    "common": set(),
    "audit": {"common"},
    "frameworks": {"common", "audit"},
    "inventory": {"common", "audit"},
    "compliance": {"common", "audit", "frameworks", "inventory"},
    "plimsoll": {"common", "audit", "frameworks", "inventory", "compliance"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _resolve(name: str) -> str | None:
    """The project module an import names (a name imported from a package may be a submodule or an attribute)."""
    while name and name not in SOURCES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, top_level_only: bool) -> set[str]:
    path = SOURCES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:
        # `if TYPE_CHECKING:` blocks never run.
        nodes = [n for n in nodes if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    # A module's own parent packages are initialised before it runs: naming them is no edge.
    own = _parents(module) | {module}
    return {resolved for name in names if (resolved := _resolve(name)) and resolved not in own}


def _external_imports(module: str) -> set[str]:
    tree = ast.parse(SOURCES[module].read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _parents(module: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))} & set(SOURCES)


def test_it_has_no_cycle_between_top_level_packages() -> None:
    # Every import counts here, deferred ones inside functions too: a deferred import is still a dependency.
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    offenders = []
    for module in SOURCES:
        top = module.split(".")[0]
        for target in _imports(module, top_level_only=False):
            other = target.split(".")[0]
            if other != top:
                graph[top].add(other)
                if other not in ALLOWED[top]:
                    offenders.append(f"{module} imports {target}")
    assert _cycles(graph) == [], offenders
    assert offenders == []


def test_it_has_no_cycle_between_modules() -> None:
    graph = {m: _imports(m, top_level_only=True) for m in SOURCES}
    assert _cycles(graph) == []


def _reached_from(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start, *_parents(start)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for target in _imports(module, top_level_only=True):
            todo.extend([target, *_parents(target)])
    return seen


def test_it_keeps_django_and_celery_away_from_the_engine() -> None:
    engine = [m for m in SOURCES if m.startswith("compliance.engine")]
    reached = set().union(*(_reached_from(m) for m in engine))
    assert {m for m in reached if not m.startswith("compliance.engine")} <= {"compliance"}
    heavy = {m: _external_imports(m) & {"django", "celery", "rest_framework"} for m in reached}
    assert {m: h for m, h in heavy.items() if h} == {}


def test_it_imports_the_engine_without_loading_django_or_celery() -> None:
    code = "import sys, compliance.engine; print(sorted(m for m in ('django', 'celery') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_it_keeps_the_agent_free_of_the_server() -> None:
    agent = [m for m in SOURCES if m.startswith("inventory.agent")]
    reached = set().union(*(_reached_from(m) for m in agent))
    assert {m for m in reached if not m.startswith("inventory.agent")} <= {"inventory"}
    heavy = {m: _external_imports(m) & {"django", "celery", "rest_framework"} for m in reached}
    assert {m: h for m, h in heavy.items() if h} == {}


@pytest.mark.parametrize("rule", sorted(ALLOWED))
def test_it_knows_every_package(rule: str) -> None:
    assert (ROOT / rule / "__init__.py").exists()
