"""Fail when a committed notebook carries outputs or execution counts (commit them clean).

Stable facts are checked by cells that raise when the fact is wrong (nbval fails on the error),
not by ``# NBVAL_CHECK_OUTPUT`` reference outputs: those would have to be committed, which this
rule forbids.

Usage: python tools/check_notebooks_clean.py [--fix] DIR_OR_NOTEBOOK...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def dirty_cells(nb: dict) -> list[int]:
    return [
        i
        for i, cell in enumerate(nb.get("cells", []))
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def main(argv: list[str]) -> int:
    fix = "--fix" in argv
    paths = [Path(a) for a in argv if a != "--fix"] or [Path("notebooks")]
    notebooks = sorted(
        p
        for root in paths
        for p in ([root] if root.suffix == ".ipynb" else root.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    )
    bad = 0
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = dirty_cells(nb)
        if not cells:
            continue
        if fix:
            for cell in nb["cells"]:
                if cell.get("cell_type") == "code":
                    cell["outputs"], cell["execution_count"] = [], None
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"cleaned {path}")
        else:
            bad += 1
            print(f"{path}: code cells {cells} have outputs or execution counts")
    if bad:
        print(
            f"{bad} notebook(s) not clean: run "
            "`python tools/check_notebooks_clean.py --fix notebooks`"
        )
        return 1
    print(f"{len(notebooks)} notebook(s) clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
