#!/usr/bin/env python3
"""Type-check the notebooks' raw TensorRT cells against every in-tree TensorRT stub version.

The cells that start with ``%%requires tensorrt ...`` only run on a GPU machine with TensorRT, so
CPU CI never executes them: a call that does not exist in a TensorRT version (``BuilderFlag.FP16``
in 11.x, ``build_engine`` since 10) would reach learners unnoticed. This tool extracts those cells
and runs mypy on them once per ``typings/tensorrt-<version>`` (``MYPYPATH``, as
``tools/typecheck.py`` does), so such a call fails ``make typecheck``.

How a notebook becomes a module (one per notebook, its TensorRT cells in order):

- the ``%%requires`` line is dropped; other IPython lines (``%magic``, ``!shell``) become ``pass``;
- names the cells use but never bind (defined by earlier CPU cells, or IPython's ``display``) are
  declared in a prelude as ``name: Any``: only the TensorRT API is checked, not the notebook's
  plumbing. Everything except ``tensorrt`` is imported with ``follow_imports = skip`` (so torch,
  trtlab, cuda-python are ``Any`` here; ``tools/typecheck.py`` checks trtlab itself strictly).
  ``tensorrt`` must resolve to the stubs: a missing stub is an error, never a silent ``Any``.

Version branches. A cell written for TensorRT 10 *and* 11 branches on the version, e.g.::

    major = int(trt.__version__.split(".")[0])
    if major >= 11: ...            # strongly typed
    else: config.set_flag(trt.BuilderFlag.FP16)

A ``# type: ignore`` would hide real mistakes in either branch, and mypy cannot narrow an int
read at run time. So the tool does what the interpreter would do on that version: a *version
variable* is a name assigned from an expression that reads ``__version__`` (or
``tensorrt_version``); each comparison of a version variable with an integer literal
(``major >= 11``, ``major < 11``, ``11 <= major``) is evaluated for the stub version being checked
and replaced by a name mypy is told is always true / always false (``--always-true``). mypy then
skips the branch that cannot run on that version and checks the other one against that version's
API: each branch is checked exactly against the versions it runs on. Other forms of version test
(``hasattr``, string comparison of ``__version__``) are not understood: both branches are then
checked against both versions, and the code must exist in both. Write the comparison form.

    python tools/typecheck_notebooks.py                  # notebooks/*.ipynb, every stub version
    python tools/typecheck_notebooks.py notebooks/03_onnx_to_tensorrt.ipynb --only 11.4.0.106
    python tools/typecheck_notebooks.py --keep /tmp/nbcheck   # keep the extracted modules
"""

from __future__ import annotations

import argparse
import ast
import json
import operator
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TYPINGS = ROOT / "typings"
NOTEBOOKS = ROOT / "notebooks"
#: A cell is checked when its first line is ``%%requires`` naming ``tensorrt``.
_REQUIRES = re.compile(r"^%%requires\b(.*)$")
#: Names mypy is told are always true / false: the evaluated version comparisons.
TRUE_NAME, FALSE_NAME = "TRT_VERSION_BRANCH_TRUE", "TRT_VERSION_BRANCH_FALSE"
#: Source text that marks an assignment as reading the TensorRT version.
_VERSION_SOURCES = ("__version__", "tensorrt_version")
_OPS: dict[type[ast.cmpop], Callable[[int, int], bool]] = {
    ast.GtE: operator.ge,
    ast.Gt: operator.gt,
    ast.LtE: operator.le,
    ast.Lt: operator.lt,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_MIRROR: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.GtE: ast.LtE,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.Lt: ast.Gt,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}
#: mypy settings for the extracted cells: teaching code is not annotated, so not --strict, but
#: untyped function bodies (a progress monitor's methods) are checked too.
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
check_untyped_defs = True
follow_imports = skip
ignore_missing_imports = True
warn_unreachable = False

[mypy-tensorrt,tensorrt.*]
follow_imports = normal
ignore_missing_imports = False
"""

#: Python's own builtins, read in a fresh interpreter: IPython adds ``display`` & co. to the
#: ``builtins`` module of a process that loaded it, and mypy does not know those names.
_BUILTINS = frozenset(
    subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import builtins; print(' '.join(dir(builtins)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
)


@dataclass
class CellSource:
    """One ``%%requires tensorrt`` cell: where it is and its code (magic line removed)."""

    cell: str
    first_line: int  # line of the code (after the magic) inside the cell, 1-based
    code: str


@dataclass
class Extracted:
    """A notebook's TensorRT cells as one module, with a map back to cell lines."""

    notebook: Path
    cells: list[CellSource]
    source: str = ""
    line_map: dict[int, tuple[str, int]] = field(default_factory=dict)
    prelude: list[str] = field(default_factory=list)
    version_names: list[str] = field(default_factory=list)


@dataclass
class NotebookResult:
    """mypy's verdict on one notebook for one stub version."""

    notebook: Path
    version: str
    returncode: int
    errors: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def stub_versions(typings: Path = TYPINGS) -> list[str]:
    """Versions with stubs in ``typings/``, oldest first."""
    found = [
        p.name.removeprefix("tensorrt-")
        for p in typings.glob("tensorrt-*")
        if (p / "tensorrt" / "__init__.pyi").is_file()
    ]
    return sorted(found, key=_version_key)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _cell_text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def tensorrt_cells(notebook: dict[str, Any]) -> list[CellSource]:
    """The code cells whose first line is ``%%requires`` naming ``tensorrt``, magic removed."""
    found = []
    for i, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        lines = _cell_text(cell).splitlines()
        match = _REQUIRES.match(lines[0].strip()) if lines else None
        if match is None or "tensorrt" not in re.split(r"[\s,]+", match.group(1).lower()):
            continue
        code = [_ipython_line(ln) for ln in lines[1:]]
        found.append(CellSource(str(cell.get("id", f"cell {i}")), 2, "\n".join(code)))
    return found


def _ipython_line(line: str) -> str:
    """``%magic`` / ``!shell`` become ``pass`` at the same indentation (the line count stays)."""
    body = line.lstrip()
    if body[:1] not in ("%", "!"):
        return line
    return line[: len(line) - len(body)] + "pass  # " + body


def _bound_names(tree: ast.AST) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound


def free_names(code: str) -> list[str]:
    """Names ``code`` reads but never binds and that are not builtins, in first-use order."""
    tree = ast.parse(code)
    bound = _bound_names(tree)
    loads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    seen: dict[str, None] = {}
    for node in sorted(loads, key=lambda n: (n.lineno, n.col_offset)):
        if node.id not in bound and node.id not in _BUILTINS:
            seen.setdefault(node.id, None)
    return list(seen)


def version_variables(code: str) -> list[str]:
    """Names assigned from the TensorRT version (``trt.__version__``) or from such a name."""
    assigns = [
        n
        for n in ast.walk(ast.parse(code))
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None
    ]
    names: dict[str, None] = {}
    for node in sorted(assigns, key=lambda n: (n.lineno, n.col_offset)):
        if node.value is None:  # filtered above; narrows for mypy
            continue
        reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        text = ast.unparse(node.value)
        if any(s in text for s in _VERSION_SOURCES) or reads & names.keys():
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    names.setdefault(t.id, None)
    return list(names)


def _int_literal(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def resolve_version_branches(code: str, names: Sequence[str], major: int) -> str:
    """``code`` with each ``<version var> <op> <int>`` replaced by the always-true/false name.

    The replacement keeps every line where it was (the error lines map back to the cell); a
    comparison spanning lines is left alone (both branches are then checked).
    """
    if not names:
        return code
    lines = code.split("\n")
    edits: list[tuple[int, int, int, bool]] = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if type(op) not in _OPS:
            continue
        if isinstance(right, ast.Name) and _int_literal(left) is not None:
            left, right, op = right, left, _MIRROR[type(op)]()
        number = _int_literal(right)
        if not (isinstance(left, ast.Name) and left.id in names and number is not None):
            continue
        if node.end_lineno != node.lineno or node.end_col_offset is None:
            continue
        value = _OPS[type(op)](major, number)
        edits.append((node.lineno, node.col_offset, node.end_col_offset, value))
    for lineno, start, end, truth in sorted(edits, reverse=True):
        line = lines[lineno - 1]
        raw = line.encode("utf-8")
        name = TRUE_NAME if truth else FALSE_NAME
        lines[lineno - 1] = (raw[:start] + name.encode() + raw[end:]).decode("utf-8")
    return "\n".join(lines)


def extract(notebook_path: Path) -> Extracted:
    """The notebook's TensorRT cells joined into one module (version branches not yet resolved)."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    cells = tensorrt_cells(notebook)
    result = Extracted(notebook_path, cells)
    if not cells:
        return result
    body = "\n".join(c.code for c in cells)
    try:
        result.prelude = free_names(body)
    except SyntaxError as exc:
        raise SystemExit(
            f"{notebook_path.name}: a %%requires tensorrt cell is not Python: {exc}"
        ) from exc
    result.version_names = version_variables(body)
    header = [
        f"# TensorRT cells of {notebook_path.name}, extracted by tools/typecheck_notebooks.py",
        "from typing import Any",
        f"{TRUE_NAME} = True",
        f"{FALSE_NAME} = False",
        *(f"{name}: Any" for name in result.prelude),
    ]
    out = list(header)
    for cell in cells:
        out.append(f"# --- cell {cell.cell} ---")
        for offset, line in enumerate(cell.code.split("\n")):
            out.append(line)
            result.line_map[len(out)] = (cell.cell, cell.first_line + offset)
    result.source = "\n".join(out) + "\n"
    return result


_ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?:\d+:)? (?P<rest>.*)$")


def _map_errors(output: str, extracted: Extracted, module: Path) -> list[str]:
    """mypy's lines with the module's line numbers turned into ``notebook cell <id> line <n>``."""
    mapped = []
    for raw in output.splitlines():
        m = _ERROR_LINE.match(raw)
        if m is None or Path(m["file"]).name != module.name:
            if raw.strip() and not raw.startswith(("Found ", "Success")):
                mapped.append(raw)
            continue
        where = extracted.line_map.get(int(m["line"]))
        place = f"cell {where[0]} line {where[1]}" if where else f"line {m['line']} (prelude)"
        mapped.append(f"{extracted.notebook.name} {place}: {m['rest']}")
    return mapped


def check_notebook(
    extracted: Extracted, version: str, workdir: Path, *, cache: bool = True
) -> NotebookResult:
    """mypy on the notebook's TensorRT cells against ``typings/tensorrt-<version>``."""
    start = time.perf_counter()
    major = _version_key(version)[0]
    code = resolve_version_branches(extracted.source, extracted.version_names, major)
    workdir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"\W", "_", extracted.notebook.stem)
    module = workdir / f"nb_{stem}_trt{version.replace('.', '_')}.py"
    module.write_text(code, encoding="utf-8")
    config = workdir / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    env = dict(os.environ)
    env["MYPYPATH"] = str(TYPINGS / f"tensorrt-{version}")
    cache_dir = str(ROOT / ".mypy_cache" / f"notebooks-{version}") if cache else os.devnull
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(config),
        "--cache-dir",
        cache_dir,
        "--always-true",
        TRUE_NAME,
        "--always-false",
        FALSE_NAME,
        "--no-error-summary",
        "--show-error-codes",
        str(module),
    ]
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=False)
    errors = _map_errors(proc.stdout + proc.stderr, extracted, module)
    return NotebookResult(
        extracted.notebook, version, proc.returncode, errors, time.perf_counter() - start
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help=f"default: {NOTEBOOKS}/*.ipynb")
    parser.add_argument(
        "--only", action="append", metavar="VERSION", help="check only these stub versions"
    )
    parser.add_argument("--keep", type=Path, help="write the extracted modules here and keep them")
    parser.add_argument("--no-cache", action="store_true", help="do not use/write the mypy cache")
    args = parser.parse_args(argv)

    versions = stub_versions()
    if args.only:
        unknown = sorted(set(args.only) - set(versions))
        if unknown:
            print(f"typecheck_notebooks: no stubs for {unknown}; have {versions}", file=sys.stderr)
            return 2
        versions = [v for v in versions if v in args.only]
    if not versions:
        print(f"typecheck_notebooks: no TensorRT stubs under {TYPINGS}", file=sys.stderr)
        return 2
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"typecheck_notebooks: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="trtlab-nbcheck-") as tmp:
        workdir = args.keep or Path(tmp)
        results: list[NotebookResult] = []
        for path in paths:
            extracted = extract(path)
            if not extracted.cells:
                continue
            for version in versions:
                results.append(check_notebook(extracted, version, workdir, cache=not args.no_cache))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"--- {r.notebook.name} against TensorRT {r.version} stubs ---")
        print("\n".join(r.errors))
    print("=== notebook TensorRT cells typecheck ===")
    for r in results:
        print(
            f"  {'ok  ' if r.ok else 'FAIL'} {r.notebook.name:<34} {r.version:<12}"
            f" {r.seconds:5.1f} s"
        )
    if not results:
        print("  no %%requires tensorrt cells found")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
