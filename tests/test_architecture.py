"""The architecture's rules, read from the source with ``ast`` (nothing is imported but the registry):
no import cycles among the modules of ``bench``, and framework knowledge only in ``bench/backends/``.
"""
from __future__ import annotations

import ast
from pathlib import Path

from bench import backends

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bench"
# Framework modules, whatever the registry says: a backend being added must not leak either.
FRAMEWORK_MODULES = {"tensorflow", "torch", "keras", "numba", "jax", "jaxlib", "flax"}


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


def test_no_framework_outside_the_backends():
    names = _framework_names()
    leaks = [leak for path in _outside_backends() for leak in framework_leaks(path, names)]
    assert not leaks, "framework knowledge outside bench/backends/:\n" + "\n".join(leaks)


# --- the checks can fail --------------------------------------------------------------


def test_the_cycle_finder_names_a_cycle():
    graph = {"bench.a": {"bench.b"}, "bench.b": {"bench.c"}, "bench.c": {"bench.a"}, "bench.d": {"bench.a"}}
    assert cycles(graph) == [["bench.a", "bench.b", "bench.c", "bench.a"]]
    assert cycles({"bench.a": {"bench.b"}, "bench.b": set()}) == []


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
