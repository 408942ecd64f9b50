"""The layering of `src/kuzet` (issue 17), read from its imports: no cycle between its
packages, and the modules everyone reads at the bottom. A top-level module (`config`,
`errors`, `hooks`, `regulation`, `server`, ...) is a node of its own, as a package is.
Imports inside functions count as much as those at the top of a file; only those under
`if TYPE_CHECKING:`, which never run, do not."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import kuzet

SRC = Path(kuzet.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node` but the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield child
        yield from runtime_nodes(child)


def imported(path: Path) -> set[str]:
    """The kuzet modules (or names within them) a file imports when it runs."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names |= {f"{base}.{a.name}" for a in node.names} | {base}
    return {n for n in names if n.startswith("kuzet.")}


def module_imports() -> dict[str, set[str]]:
    """Each module's kuzet imports, as modules (`kuzet.config.Settings` is `kuzet.config`).
    The migration environment, which gathers every package's tables for Alembic, is left
    out; its revisions import nothing of Kuzet's (tests/test_catalog.py)."""
    paths = {module_name(p): p for p in SRC.rglob("*.py")
             if "migrations" not in p.relative_to(SRC).parts}

    def module(name: str) -> str:
        """The module a name is in; the root package where no module has it."""
        while name not in paths:
            name = name.rsplit(".", 1)[0]
        return name

    return {m: {module(n) for n in imported(p)} - {m} for m, p in paths.items()}


def node_of(module: str) -> str:
    """kuzet.storage.sweeper → storage; kuzet.config → config."""
    return module.split(".")[1]


def package_edges(modules: dict[str, set[str]]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(importing node, imported node) → the module imports that make the edge."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for module, names in modules.items():
        for name in names - {"kuzet"}:
            a, b = node_of(module), node_of(name)
            if a != b:
                edges.setdefault((a, b), set()).add((module, name))
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_cycle_between_packages() -> None:
    modules = module_imports()
    # the root package holds the version only: a name that resolves to it is in no module
    assert sorted(m for m, names in modules.items() if "kuzet" in names) == []
    edges = package_edges(modules)
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    assert len(graph) > 15  # the imports were read
    assert len(edges) > 60
    found = {", ".join(c): sorted(f"{m} → {n}" for (a, b), pairs in edges.items()
                                  if a in c and b in c for m, n in pairs)
             for c in cycles(graph)}
    assert found == {}


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# What the modules every part reads import when they run, all of it.
BENEATH = {
    "kuzet.regulation": {"kuzet.errors", "kuzet.timefmt"},
    "kuzet.config": {"kuzet.access.destinations", "kuzet.access.lan", "kuzet.credentials",
                     "kuzet.endpoints", "kuzet.regulation"},
    "kuzet.endpoints": set(),
    "kuzet.access.destinations": {"kuzet.access.lan", "kuzet.errors"},
    "kuzet.credentials": set(),
    "kuzet.hooks": set(),
}


def test_settings_regulation_and_hooks_sit_at_the_bottom() -> None:
    """The settings, the regulation's numbers, the type of a URL with a password and the
    extension points import nothing above them: detection and the integrations plug into
    `hooks`, and the assembly (`kuzet.server`) registers Kuzet's own."""
    modules = module_imports()
    assert {m: modules[m] for m in BENEATH} == BENEATH
