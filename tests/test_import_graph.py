"""The layers of docs/architecture.md, checked on the import graph built from the source (every module's AST).

Every ``import`` counts: module level, inside functions, under
``TYPE_CHECKING``. A circle of imports inside a package means two modules
cannot be understood (or changed) apart; the layer rules keep the record
(``crm_core``) free of the reactor and the web, the switch layer
(``freeswitch``) free of everything above it, and the IVR and the ACD
strangers to each other (``hotline`` joins them).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("acd", "admin", "crm_core", "freeswitch", "hotline", "ivr", "messaging")


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where."""

    module: str  # the importing module (dotted)
    target: str  # the imported name as written (dotted, absolute)
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[Import]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from pkg import mod" imports pkg.mod when it is a module, else a name from pkg
            found += [Import(name, f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
IMPORTS = [imp for path in MODULES.values() for imp in _imports(path)]


def _resolve(target: str) -> str | None:
    """The project module an import target lands in (the longest known prefix), or None for outside code."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def _top(name: str) -> str:
    return name.split(".")[0]


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for imp in IMPORTS:
        target = _resolve(imp.target)
        if target is not None and target != imp.module:
            edges[imp.module].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_function_level_and_type_checking_imports():
    edges = graph()
    assert "acd.connect" in edges["acd.engine"]  # a module-level import
    assert "hotline.db_gateway" in edges["hotline.wiring"]  # an import inside a function
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_circle_inside_any_package():
    inside = [c for c in circles(graph()) if len({_top(m) for m in c}) == 1]
    assert inside == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in inside)


def test_no_circle_between_packages_either():
    assert circles(graph()) == []


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{MODULES[imp.module].relative_to(ROOT)}:{imp.line} imports {imp.target}" for imp in IMPORTS
            if _top(imp.module) == package and _top(imp.target) in forbidden]


@pytest.mark.parametrize("package, forbidden", [
    ("crm_core", ("twisted", "flask", "flask_admin", "flask_login", "flask_wtf", "flask_babel", "werkzeug",
                  "freeswitch", "ivr", "acd", "admin", "hotline", "messaging")),
    ("freeswitch", ("crm_core", "ivr", "acd", "admin", "hotline", "messaging", "sqlalchemy", "alembic", "flask")),
    ("admin", ("hotline",)),
    ("ivr", ("acd", "admin", "hotline")),
    ("acd", ("ivr", "admin", "hotline")),
])
def test_layers_point_one_way(package, forbidden):
    assert _offenders(package, forbidden) == []
