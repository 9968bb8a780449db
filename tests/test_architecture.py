"""The architecture's rules, read from the source with ``ast`` (nothing is imported but the registry):
no import cycles among the modules of ``bench`` nor among its packages, no private name (a leading
underscore) reached across packages, and framework knowledge only in ``bench/backends/``.
"""
from __future__ import annotations

import ast
from pathlib import Path

from bench import backends

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bench"
# Framework modules, whatever the registry says: a backend being added must not leak either.
FRAMEWORK_MODULES = {"tensorflow", "torch", "keras", "numba", "jax", "jaxlib", "flax"}
# The top that wires the packages together: it may import any of them, and none may import it.
TOP = {"bench", "bench.cli", "bench.__main__"}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``bench`` (a package is its ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(node, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement names (``from x import y`` gives both ``x.y`` and ``x``;
    the caller keeps the one that is a module)."""
    if isinstance(node, ast.Import):
        return [[alias.name] for alias in node.names]
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(max(node.level - 1, 0)):
        base = base.rpartition(".")[0]
    target = node.module or ""
    if node.level:
        target = f"{base}.{target}" if target else base
    return [[f"{target}.{alias.name}", target] for alias in node.names]


def _resolve(candidates: list[str], known: dict) -> "str | None":
    """The first candidate that is a module of ``bench``, else its longest prefix that is."""
    for name in candidates:
        while name:
            if name in known:
                return name
            name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``bench`` modules it imports, at module level or inside a function."""
    known = _modules()
    graph = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for candidates in _imported(node, module, path.name == "__init__.py"):
                    target = _resolve(candidates, known)
                    if target and target != module and target.split(".")[0] == "bench":
                        edges.add(target)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path back to its start) per strongly connected component of two or more
    modules (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(set(component))
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: set[str], graph) -> list[str]:
    """A shortest path from the component's first module back to itself (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    return sorted(component)


def package_of(module: str) -> str:
    """``bench.run.runner`` -> ``bench.run``; a module directly under ``bench`` is its own package."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the packages its modules import (the top, ``TOP``, left out: it wires them together)."""
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if module in TOP:
            continue
        mine = out.setdefault(package_of(module), set())
        mine |= {package_of(t) for t in targets if t not in TOP and package_of(t) != package_of(module)}
    return out


def private_reaches(path: Path, module: str, known: dict) -> list[str]:
    """Where ``module`` takes a private name (leading underscore) from a module of another package:
    ``from bench.x import _y`` or ``x._y`` on a name bound by importing ``bench.x``."""
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    mine, bound, out = package_of(module), {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias, candidates in zip(node.names, _imported(node, module, path.name == "__init__.py")):
                target = _resolve(candidates, known)
                if not target or package_of(target) == mine:
                    continue
                if target == candidates[0]:      # ``from bench.x import y`` where y is a module
                    bound[alias.asname or alias.name] = target
                elif alias.name.startswith("_"):
                    out.append(f"{where}:{node.lineno} imports {alias.name} from {target}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in known and package_of(alias.name) != mine:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in bound):
            out.append(f"{where}:{node.lineno} uses {bound[node.value.id]}.{node.attr}")
    return out


def _docstrings(tree) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions (they document, so they may
    name a framework)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def framework_leaks(path: Path, names: set[str]) -> list[str]:
    """Where a module imports a framework or writes a backend's or framework's name as a string."""
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree)
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [f"{where}:{node.lineno} imports {a.name}" for a in node.names
                    if a.name.split(".")[0] in FRAMEWORK_MODULES]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] in FRAMEWORK_MODULES:
                out.append(f"{where}:{node.lineno} imports from {node.module}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value in names:
                out.append(f"{where}:{node.lineno} names {node.value!r}")
    return out


def _outside_backends() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if (PACKAGE / "backends") not in p.parents]


def _framework_names() -> set[str]:
    names = set(backends.names()) | FRAMEWORK_MODULES | set(backends.libraries())
    return names | {backends.package(name) for name in backends.names()}


# --- the rules -------------------------------------------------------------------


def test_bench_has_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (module-level and function-level imports):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found)


def test_bench_packages_have_no_import_cycles():
    found = cycles(package_graph(import_graph()))
    assert not found, "package-level import cycles (bench.cli and bench/__init__ exempt):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found)


def test_no_private_name_is_reached_across_packages():
    known = _modules()
    reaches = [reach for module, path in known.items() if module not in TOP
               for reach in private_reaches(path, module, known)]
    assert not reaches, "private names used from another package:\n" + "\n".join(reaches)


def test_no_framework_outside_the_backends():
    names = _framework_names()
    leaks = [leak for path in _outside_backends() for leak in framework_leaks(path, names)]
    assert not leaks, "framework knowledge outside bench/backends/:\n" + "\n".join(leaks)


# --- the checks can fail --------------------------------------------------------------


def test_the_cycle_finder_names_a_cycle():
    graph = {"bench.a": {"bench.b"}, "bench.b": {"bench.c"}, "bench.c": {"bench.a"}, "bench.d": {"bench.a"}}
    assert cycles(graph) == [["bench.a", "bench.b", "bench.c", "bench.a"]]
    assert cycles({"bench.a": {"bench.b"}, "bench.b": set()}) == []


def test_the_package_graph_folds_modules_and_leaves_out_the_top():
    graph = {"bench.run.runner": {"bench.backends", "bench.run.seeds"}, "bench.run.seeds": set(),
             "bench.backends": {"bench.run.devices"}, "bench.run.devices": set(), "bench.cli": {"bench.run.runner"},
             "bench.errors": set(), "bench.spec": {"bench.errors", "bench"}, "bench": set()}
    packages = package_graph(graph)
    assert packages == {"bench.run": {"bench.backends"}, "bench.backends": {"bench.run"}, "bench.errors": set(),
                        "bench.spec": {"bench.errors"}}
    assert cycles(packages) == [["bench.backends", "bench.run", "bench.backends"]]


def test_the_private_finder_sees_both_forms_but_not_its_own_package(tmp_path):
    known = {"bench.analysis": None, "bench.analysis.verdict": None, "bench.run": None, "bench.run.seeds": None}
    path = tmp_path / "probe.py"
    path.write_text("from bench.analysis import verdict\nfrom bench.analysis.verdict import _decide, decide\n"
                    "from bench.run import seeds\n\n\ndef f(x):\n    return verdict._decide(x), seeds._draw(x), "
                    "x._private, verdict.__name__\n")
    found = [reach.split(" ", 1)[1] for reach in private_reaches(path, "bench.run.adaptive", known)]
    assert found == ["imports _decide from bench.analysis.verdict", "uses bench.analysis.verdict._decide"]


def test_function_level_and_relative_imports_count():
    known = {"bench.data": None, "bench.data.tabular": None, "bench.spec": None}
    tree = ast.parse("def f():\n    from bench.data import tabular\nfrom . import spec\n")
    found = [_resolve(c, known) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for c in _imported(node, "bench.data", True)]
    # "from . import spec" in the package bench.data means bench.data.spec, not bench.spec: unknown, so its package
    assert sorted(found) == ["bench.data", "bench.data.tabular"]


def test_the_leak_finder_sees_imports_and_literals_but_not_docstrings(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text('"""Talks about "tf" and torch."""\nimport numpy\n\n\ndef f():\n    import torch\n'
                    '    return {"tf": 1}\n')
    leaks = framework_leaks(path, _framework_names())
    assert [leak.split(" ", 1)[1] for leak in leaks] == ["imports torch", "names 'tf'"]
