"""Copy notebooks with every exercise solved, for the CI run of the curriculum.

An exercise cell is a code cell tagged ``exercise``; its solution is the first fenced ``python``
block of the next markdown cell tagged ``solution`` (a collapsed ``<details>`` block that the
learner opens when stuck). The copy replaces each exercise cell's source with its solution; a
tagged exercise without a solution is an error, so no exercise can silently go untested.

    python tools/solve_notebooks.py notebooks/ build/solved/
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solve(nb: dict[str, Any], name: str = "notebook") -> tuple[dict[str, Any], int]:
    """The notebook with its exercise cells replaced by their solutions, and how many."""
    cells = nb.get("cells", [])
    solved = 0
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or "exercise" not in _tags(cell):
            continue
        solution = None
        for later in cells[i + 1 :]:
            if later.get("cell_type") == "code" and "exercise" in _tags(later):
                break
            if later.get("cell_type") == "markdown" and "solution" in _tags(later):
                match = FENCE.search(_source(later))
                solution = match.group(1) if match else None
                break
        if solution is None:
            cid = cell.get("id", i)
            raise SystemExit(
                f"{name}: exercise cell {cid} has no solution cell with a python block"
            )
        cell["source"] = solution.rstrip("\n").splitlines(keepends=True)
        solved += 1
    return nb, solved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    args = ap.parse_args(argv)
    if args.dst.exists():
        shutil.rmtree(args.dst)
    args.dst.mkdir(parents=True)
    total = 0
    for path in sorted(args.src.glob("*.ipynb")):
        nb, count = solve(json.loads(path.read_text()), path.name)
        (args.dst / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        total += count
        print(f"{path.name}: {count} exercise(s) solved")
    print(f"{total} exercise(s) in {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
