"""The project's import graph, package to package, and its biggest files and functions.

``python3 tests/import_graph.py [ROOT]`` (ROOT: a checkout, default ``.``) prints one line per edge
with the number of import statements behind it, then the three longest files and functions.
"""

from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

TOPS = {"bot", "handlers", "models", "reports", "texts", "scheduler"}
SKIP = {"tests", ".venv", "migrations", "bench"}


def part(module: str) -> str:
    """``bot.channels.zalo`` → ``bot.channels``; ``handlers.flow`` → ``handlers``."""
    p = module.split(".")
    return f"bot.{p[1]}" if p[0] == "bot" and len(p) > 1 and p[1] in ("channels", "web") else p[0]


def main(root: Path) -> None:
    edges: collections.Counter[tuple[str, str]] = collections.Counter()
    files, funcs = [], []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root)
        if rel.parts[0] in SKIP:
            continue
        text = f.read_text(encoding="utf-8")
        tree = ast.parse(text)
        files.append((len(text.splitlines()), str(rel)))
        src = part(".".join(rel.with_suffix("").parts))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                funcs.append(((node.end_lineno or node.lineno) - node.lineno + 1, f"{rel}:{node.name}"))
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                dst = part(name)
                if src.split(".")[0] in TOPS and dst.split(".")[0] in TOPS and dst != src:
                    edges[(src, dst)] += 1
    for (a, b), n in sorted(edges.items()):
        print(f"{a:14} -> {b:14} {n}")
    print("biggest files:", sorted(files)[-3:])
    print("biggest functions:", sorted(funcs)[-3:])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
