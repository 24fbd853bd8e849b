"""Print the cycles of the portal's import graph; exit 1 if any joins two apps.

Every import counts, those inside functions too (grimp reads them all). The
graph is read at two levels: modules, and the apps they belong to. A cycle of
modules within one app is printed as a note; a cycle between apps is an error.

    python scripts/import_cycles.py [--root DIR] [PACKAGE ...]

With no package named, the apps are the import contract's root packages
(pyproject.toml).
"""

import argparse
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def root_packages(root: Path) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["root_packages"]


def strongly_connected(nodes, edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("packages", nargs="*")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root))
    packages = args.packages or root_packages(args.root)
    graph = grimp.build_graph(*packages, cache_dir=None)
    modules = graph.modules
    module_edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    app_of = {m: m.split(".")[0] for m in modules}
    app_edges: dict[str, set[str]] = {}
    for importer, imported in module_edges.items():
        for target in imported:
            if app_of[target] != app_of[importer]:
                app_edges.setdefault(app_of[importer], set()).add(app_of[target])

    between_apps = strongly_connected(packages, app_edges)
    module_cycles = strongly_connected(modules, module_edges)
    for group in module_cycles:
        apps = sorted({app_of[m] for m in group})
        kind = "between apps" if len(apps) > 1 else f"within {apps[0]}"
        print(f"module cycle {kind}: {' <-> '.join(group)}")
    for group in between_apps:
        print(f"app cycle: {' <-> '.join(group)}")
        for importer in group:
            for imported in sorted(app_edges.get(importer, set()) & set(group)):
                lines = [
                    f"{a} -> {b}"
                    for a in sorted(m for m in modules if app_of[m] == importer)
                    for b in sorted(module_edges[a])
                    if app_of[b] == imported
                ]
                print(f"  {importer} -> {imported}: {', '.join(lines)}")
    if not between_apps and not any(len({app_of[m] for m in g}) > 1 for g in module_cycles):
        print(f"no import cycle between apps ({len(modules)} modules, {len(packages)} apps)")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
