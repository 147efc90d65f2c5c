#!/usr/bin/env python3
"""Execute every notebook in ``notebooks/`` headless (nbclient) and summarize what each cell did.

Why: on the GPU machine the notebooks should pick PyTorch on CUDA where they run PyTorch, and
every model cell prints its backend and device; the summary keeps those lines (and any error)
per cell, so one can read which backend each cell used without opening the notebooks.
All cells run even after an error (``allow_errors``); the exit status is 1 when any cell failed.

    PYTHONPATH=$PWD TRTLAB_QUICK=1 TRTLAB_OFFLINE=1 python3 tools/h100/run_notebooks.py --out DIR
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Output keys worth keeping in the summary, in order of preference per output.
TEXT_KEYS = ("text/plain",)
MAX_OUTPUT_CHARS = 1500


def _output_text(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f"[{output.get('name', 'stream')}] {''.join(output.get('text', ''))}"
    if kind == "error":
        tb = "\n".join(output.get("traceback", [])[-3:])
        return f"[ERROR {output.get('ename')}] {output.get('evalue')}\n{_strip_ansi(tb)}"
    data = output.get("data", {})
    parts = []
    if "application/vnd.jupyter.widget-view+json" in data:
        model = data["application/vnd.jupyter.widget-view+json"].get("model_id", "?")
        parts.append(f"[widget view {model}]")
    for key in TEXT_KEYS:
        if key in data:
            parts.append(f"[{kind}] {''.join(data[key])}")
    other = [k for k in data if k not in TEXT_KEYS and not k.startswith("application/vnd.jupyter")]
    if other:
        parts.append(f"(also: {', '.join(sorted(other))})")
    return "\n".join(parts)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def summarize(nb: Any, name: str) -> tuple[list[str], int]:
    """Text lines describing each code cell's outputs; and how many cells raised."""
    lines = [f"===== {name}"]
    failed = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source.strip().splitlines()
        first = source[0] if source else ""
        timing = cell.metadata.get("execution", {})
        seconds = ""
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            from datetime import datetime

            dt = datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))
            seconds = f" ({dt.total_seconds():.1f} s)"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        failed += bool(errors)
        status = "ERROR" if errors else "ok"
        lines.append(f"--- cell {index} [{status}]{seconds}: {first[:100]}")
        for output in cell.get("outputs", []):
            text = _output_text(output).rstrip()
            if len(text) > MAX_OUTPUT_CHARS:
                text = text[:MAX_OUTPUT_CHARS] + f"... [{len(text) - MAX_OUTPUT_CHARS} more chars]"
            if text:
                lines.extend("    " + line for line in text.splitlines())
    lines.append(f"===== {name}: {failed} cell(s) raised")
    return lines, failed


def _write(out: Path, summary: list[str], executed: list[tuple[str, bytes]]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in executed:
            info = tarfile.TarInfo(name=f"executed/{name}")
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    (out / "notebooks_executed.tar.gz").write_bytes(buffer.getvalue())
    (out / "notebooks_summary.txt").write_text("\n".join(summary) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "notebooks_out"))
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    args = parser.parse_args()

    import nbformat
    from nbclient import NotebookClient

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    summary: list[str] = []
    results: list[dict[str, Any]] = []
    executed: list[tuple[str, bytes]] = []
    total_failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        client = NotebookClient(
            nb,
            timeout=args.timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        t0 = time.perf_counter()
        crash = ""
        try:
            client.execute()
        except Exception as exc:  # kernel death or timeout: keep what ran so far
            crash = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        lines, failed = summarize(nb, path.name)
        if crash:
            lines.append(f"!!!!! {path.name}: execution stopped: {crash[:2000]}")
            failed += 1
        lines.append(f"      {path.name}: {seconds:.1f} s")
        print("\n".join(lines), flush=True)
        summary.extend(lines)
        total_failed += failed
        results.append(
            {"notebook": path.name, "failed_cells": failed, "crash": crash, "seconds": seconds}
        )
        executed.append((path.name, nbformat.writes(nb).encode()))  # type: ignore[no-untyped-call]
        _write(out, summary, executed)  # after each notebook: a later timeout loses nothing
    print(json.dumps(results, indent=1))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
