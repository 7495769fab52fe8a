"""The import graph of ``src/semtalk`` has no cycles: neither between its top-level folders nor between files.

Every import counts: module level, inside functions, under ``TYPE_CHECKING``. A folder is ``semtalk.<first
part>`` for a module in a subpackage; a top-level module (``records``, ``registry``, ``errors``, ``cli`` …) is
its own node. The assertion message prints each cycle and, for folders, the imports that make it.
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "semtalk"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods[".".join(parts)] = path
    return mods


def _targets(mods: dict[str, Path], module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules of ``mods`` that one import statement names (the longest known prefix of each name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            here = module.split(".") if mods[module].name == "__init__.py" else module.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base for alias in node.names]
    out = []
    for name in names:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def import_edges(mods: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module → {imported module of the package: line of the first such import}."""
    edges: dict[str, dict[str, int]] = {m: {} for m in mods}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(mods, module, node):
                    if target != module:
                        edges[module].setdefault(target, node.lineno)
    return edges


def folder(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])  # semtalk.<folder> for subpackages, semtalk.<module> for top-level modules


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected component of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    nodes = sorted(set(graph) | {b for bs in graph.values() for b in bs})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        components.append(set(component))
    return [_shortest_cycle(graph, component) for component in components]


def _shortest_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph.get(v, ())):
            if w not in component:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if w not in parent:
                parent[w] = v
                queue.append(w)
    raise AssertionError(f"no cycle through {start} in its component {sorted(component)}")  # pragma: no cover


@pytest.fixture(scope="module")
def edges() -> dict[str, dict[str, int]]:
    mods = _modules()
    assert len(mods) > 50 and "semtalk.records" in mods, f"src/semtalk not found under {SRC}"
    return import_edges(mods)


def _where(edges: dict[str, dict[str, int]], a: str, b: str) -> str:
    """The files of folder ``a`` that import folder ``b``, with their lines."""
    hits = [f"{m}:{line} imports {t}" for m, ts in sorted(edges.items()) if folder(m) == a
            for t, line in sorted(ts.items()) if folder(t) == b]
    return "; ".join(hits[:4]) + (f" (+{len(hits) - 4} more)" if len(hits) > 4 else "")


def test_no_import_cycle_between_folders(edges: dict[str, dict[str, int]]) -> None:
    graph: dict[str, set[str]] = {}
    for module, targets in edges.items():
        for target in targets:
            a, b = folder(module), folder(target)
            if a != b and PACKAGE not in (a, b):
                graph.setdefault(a, set()).add(b)
    found = cycles(graph)
    report = []
    for cycle in found:
        report.append(" -> ".join(cycle))
        report += [f"    {a} -> {b}: {_where(edges, a, b)}" for a, b in itertools.pairwise(cycle)]
    assert not found, "import cycles between folders of semtalk:\n" + "\n".join(report)


def test_no_import_cycle_between_files(edges: dict[str, dict[str, int]]) -> None:
    graph = {module: set(targets) for module, targets in edges.items()}
    found = cycles(graph)
    report = [" -> ".join(f"{m}:{edges[m][n]}" for m, n in itertools.pairwise(cycle)) + f" -> {cycle[-1]}"
              for cycle in found]
    assert not found, "import cycles between files of semtalk (module:line of the import):\n" + "\n".join(report)


def test_the_cycle_finder_finds_cycles_and_respects_folders() -> None:
    """The checker itself can fail: a planted cycle is found, a DAG is clean, and folders are as documented."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}}) == []
    assert folder("semtalk.records") == "semtalk.records"
    assert folder("semtalk.learned.pacsc.code") == "semtalk.learned"
    assert folder("semtalk.bench") == "semtalk.bench"
    mods = _modules()
    tree = ast.parse("from . import base\nfrom ..streams.packet import RtpPacket\nimport semtalk.records as r\n")
    assert [t for node in tree.body for t in _targets(mods, "semtalk.fec.reed_solomon", node)] == [
        "semtalk.fec.base", "semtalk.streams.packet", "semtalk.records"]
