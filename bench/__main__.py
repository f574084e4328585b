"""``python -m bench [NAME ...]``: run the benchmark modules found in bench/ (all, or those named)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    for name in wanted:
        if name not in names:
            print(f"no benchmark {name} (have: {', '.join(names)})", file=sys.stderr)
            return 2
        print(f"=== {name} ===", flush=True)
        asyncio.run(importlib.import_module(f"bench.{name}").main())
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
