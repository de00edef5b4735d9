"""The import graph of a package, read from its source with ``ast``.

Every ``import`` counts, those inside functions too: a lazy import is still a
dependency. Run as a script, it prints the package's modules, its import
cycles and its depth (the longest chain of imports, cycles counted as one
module):

    python tests/import_graph.py sklearn_mlk
"""

import ast
import pathlib
import sys
from functools import lru_cache


def modules(root):
    """``{dotted name: path}`` of every module of the package at ``root``."""
    root = pathlib.Path(root)
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(root):
    """``{module: set of modules it imports}``, within the package, and
    ``{module: set of top-level outside packages it imports}``."""
    found = modules(root)
    inside, outside = {}, {}
    for name, path in found.items():
        tree = ast.parse(path.read_text())
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps, external = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in found:
                        deps.add(alias.name)
                    else:
                        external.add(alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                subs = {f"{target}.{a.name}" for a in node.names} & set(found)
                deps |= subs
                if len(subs) < len(node.names):
                    if target in found:
                        deps.add(target)  # names defined in the module itself
                    elif not node.level:
                        external.add(target.split(".")[0])
        inside[name] = deps - {name}
        outside[name] = external
    return inside, outside


def cycles(graph):
    """The strongly connected components of ``graph`` with more than one module."""
    index, low, stack, on, components, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return [c for c in components if len(c) > 1]


def longest_chain(graph):
    """The longest chain of imports of an acyclic ``graph``."""
    @lru_cache(None)
    def chain(v):
        return (v, *max((chain(w) for w in graph[v]), key=len, default=()))

    return max((chain(v) for v in graph), key=len)


def depth(graph):
    """The number of modules on the longest chain of imports, each cycle
    counted as one module."""
    component = {}
    for group in cycles(graph):
        for v in group:
            component[v] = group[0]
    condensed = {}
    for v, deps in graph.items():
        node = component.get(v, v)
        condensed.setdefault(node, set()).update(
            component.get(w, w) for w in deps if component.get(w, w) != node)
    return len(longest_chain(condensed))


def reachable(graph, start):
    """The modules ``start`` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


if __name__ == "__main__":
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "sklearn_mlk")
    graph, _ = imports(root)
    found = cycles(graph)
    print(f"{len(graph)} modules; cycles: {found or 'none'}; depth {depth(graph)}")
    if not found:
        print("longest chain: " + " -> ".join(longest_chain(graph)))
