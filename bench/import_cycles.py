"""Import cycles in src/makegood (issue 16: each count 0): packages and modules.

Reads every module with `ast`, function-local and TYPE_CHECKING imports included, and prints
the strongly connected components of the package graph (makegood.X) and of the module graph,
with the imports that close each package cycle. `lint-imports` holds both as contracts (the
acyclic_siblings ones in pyproject.toml); this prints the counts and the closing imports.

    uv run python bench/import_cycles.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "makegood"


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(mods: dict[str, Path], mod: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        prefix = node.module or ""
        if node.level:
            base = mod.split(".")
            keep = len(base) - node.level + (mods[mod].name == "__init__.py")
            prefix = ".".join(base[:keep] + ([node.module] if node.module else []))
        names = [
            f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in mods else prefix
            for alias in node.names
        ]
    out = []
    for name in names:
        target = name
        while target not in mods and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in mods and target != mod:
            out.append(target)
    return out


def components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def main() -> None:
    mods = modules()
    edges: dict[str, set[str]] = {}
    for mod, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.setdefault(mod, set()).update(imported(mods, mod, node))

    def package(mod: str) -> str:
        return ".".join(mod.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for a, targets in edges.items():
        for b in targets:
            if package(a) != package(b):
                packages.setdefault(package(a), set()).add(package(b))
    package_cycles = components(packages)
    module_cycles = components(edges)
    print(f"package cycles: {len(package_cycles)}")
    for comp in package_cycles:
        print("  " + " <-> ".join(comp))
        for a in comp:
            for b in comp:
                if a == b:
                    continue
                closing = sorted(
                    f"{x} -> {y}"
                    for x, ys in edges.items()
                    for y in ys
                    if package(x) == a and package(y) == b
                )
                for line in closing:
                    print("      " + line)
    print(f"module cycles: {len(module_cycles)}")
    for comp in module_cycles:
        print("  " + " <-> ".join(comp))


if __name__ == "__main__":
    main()
