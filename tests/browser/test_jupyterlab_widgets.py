"""Run the widgets gallery in a real JupyterLab + Chromium and check what a learner would see.

Unit tests drive the widgets' traitlets from Python; only a browser shows whether the front end
actually renders them (widget manager loaded, images decoded, slider events reach the kernel and
come back as a new overlay). Screenshots land in ``artifacts/screenshots/``.

Run: ``make browser``, i.e.
``TRTLAB_QUICK=1 TRTLAB_OFFLINE=1 python -m pytest tests/browser -q -m browser``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Widgets the gallery must show, each in the output of the code cell that constructs it.
GALLERY_WIDGETS = (
    "EnvironmentCard",
    "ImagePicker",
    "ClassifierDemo",
    "SegmentationExplorer",
    "BuildPanel",
    "BenchmarkPanel",
    "ParityView",
)
LOAD_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 90.0
RENDER_TIMEOUT_MS = 15_000
MAX_SHOT_HEIGHT = 16_000

# The notebook panel is JupyterLab's current widget once the page has restored its layout.
_NOTEBOOK_READY_JS = """(name) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || !w.content || !w.sessionContext) return false;
  if (!w.context.path.endsWith(name) || !w.context.isReady) return false;
  const s = w.sessionContext.session;
  const k = s && s.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle'
    && w.content.widgets.length > 0;
}"""

_RUN_ALL_JS = """() => {
  const app = window.jupyterapp;
  app.shell.activateById(app.shell.currentWidget.id);
  app.commands.execute('notebook:run-all-cells');
  return true;
}"""

# One snapshot of the notebook's execution state, read from JupyterLab's models (not the DOM).
_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = [];
  w.content.widgets.forEach((c, index) => {
    if (c.model.type !== 'code') return;
    const outputs = c.model.outputs.toJSON();
    const err = outputs.find(o => o.output_type === 'error');
    cells.push({
      index,
      source: c.model.sharedModel.getSource(),
      count: c.model.executionCount,
      state: c.model.executionState || 'idle',
      error: err ? `${err.ename}: ${err.evalue}` : null,
      text: outputs.map(o => o.text || (o.data && o.data['text/plain']) || '').join(''),
    });
  });
  return {kernel: k ? k.status : 'none', cells};
}"""

# Images whose box stretches them (flex rows stretch their children unless told otherwise).
_DISTORTED_IMAGES_JS = """() => {
  const bad = [];
  document.querySelectorAll('.jp-NotebookPanel img.widget-image').forEach(img => {
    const w = img.clientWidth, h = img.clientHeight;
    if (!img.naturalWidth || !w || !h) return;
    const fit = getComputedStyle(img).objectFit;
    const natural = img.naturalWidth / img.naturalHeight, shown = w / h;
    if ((fit === 'fill' || fit === '') && Math.abs(shown / natural - 1) > 0.03)
      bad.push(`${img.naturalWidth}x${img.naturalHeight} shown as ${w}x${h}`);
  });
  return bad;
}"""
_CELL_COUNT_JS = "() => window.jupyterapp.shell.currentWidget.content.widgets.length"
_IMG_OK_JS = "img => img.complete && img.naturalWidth > 0 && (img.currentSrc || img.src).length > 0"


# Height the page needs to show the whole notebook: JupyterLab scrolls inside its own panel and
# pads the end of a notebook by a fraction of the window, so measure down to the last cell.
_NOTEBOOK_HEIGHT_JS = """() => {
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  const cells = document.querySelectorAll('.jp-NotebookPanel .jp-Cell');
  if (!scroller || !cells.length) return window.innerHeight;
  scroller.scrollTop = 0;
  const last = cells[cells.length - 1].getBoundingClientRect();
  const status = document.querySelector('#jp-main-statusbar');
  return Math.ceil(last.bottom + 40 + (status ? status.offsetHeight : 0));
}"""


def _shot(page: Any, directory: Path, name: str, *, full: bool = True) -> Path:
    """Screenshot the page; ``full``: first grow the window to the notebook's height so the
    screenshot shows every cell, not just the part of the notebook scrolled into view."""
    path = directory / f"{name}.png"
    if full:
        width = page.viewport_size["width"]
        height = int(min(max(page.evaluate(_NOTEBOOK_HEIGHT_JS), 800), MAX_SHOT_HEIGHT))
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function(
            "(h) => window.innerHeight === h && document.querySelector('.jp-NotebookPanel')"
            ".getBoundingClientRect().height > h - 200",
            arg=height,
        )
        page.evaluate(
            "() => { const s = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');"
            " if (s) s.scrollTop = 0; }"
        )
    page.screenshot(path=str(path), animations="disabled")
    return path


def _wait_for_run(page: Any, timeout_s: float) -> dict[str, Any]:
    """Poll until every code cell ran (or one failed) and the kernel is idle; return the state."""
    deadline = time.monotonic() + timeout_s
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = page.evaluate(_STATE_JS)
        if state["kernel"] in ("dead", "terminating", "none"):
            pytest.fail(f"the kernel is {state['kernel']} (crashed?)", pytrace=False)
        cells = state["cells"]
        settled = state["kernel"] == "idle" and all(c["state"] == "idle" for c in cells)
        finished = all(c["count"] is not None for c in cells) or any(c["error"] for c in cells)
        if settled and finished:
            return state
        time.sleep(0.25)
    pending = [c["index"] for c in state.get("cells", []) if c["count"] is None]
    pytest.fail(
        f"notebook did not finish within {timeout_s:.0f} s: kernel {state.get('kernel')}, "
        f"cells not run yet: {pending}",
        pytrace=False,
    )


def _widget_cells(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{widget name: the code cell that constructs it}`` (first constructing cell wins)."""
    found: dict[str, dict[str, Any]] = {}
    for cell in state["cells"]:
        for name in GALLERY_WIDGETS:
            if name not in found and re.search(rf"(?<!def )\b{name}\(", cell["source"]):
                found[name] = cell
    return found


def test_gallery_renders_and_reacts(lab_server: Any, page: Any, screenshot_dir: Path) -> None:
    from playwright.sync_api import expect

    started = time.monotonic()
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    page.goto(lab_server.lab_url(lab_server.notebook), wait_until="domcontentloaded")
    try:
        page.wait_for_function(
            _NOTEBOOK_READY_JS, arg=lab_server.notebook, timeout=LOAD_TIMEOUT_S * 1000, polling=250
        )
    except Exception as exc:
        _shot(page, screenshot_dir, "00_load_failed", full=False)
        pytest.fail(
            f"JupyterLab did not open {lab_server.notebook} with an idle kernel in "
            f"{LOAD_TIMEOUT_S:.0f} s ({exc})\n--- server log ---\n{lab_server.log()}",
            pytrace=False,
        )
    print(f"\nJupyterLab + kernel ready after {time.monotonic() - started:.1f} s")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # room for the notebook
    _shot(page, screenshot_dir, "01_before_run")

    run_started = time.monotonic()
    page.evaluate(_RUN_ALL_JS)
    state = _wait_for_run(page, RUN_TIMEOUT_S)
    print(f"all cells ran in {time.monotonic() - run_started:.1f} s")
    errors = [c for c in state["cells"] if c["error"]]
    if errors:
        _shot(page, screenshot_dir, "02_after_run_ERROR")
        first = errors[0]
        pytest.fail(
            f"code cell {first['index']} raised {first['error']}\n"
            f"--- source ---\n{first['source']}",
            pytrace=False,
        )

    notebook = page.locator(".jp-NotebookPanel")
    # ipywidgets' front end really rendered views (not "Loading widget..." or a model error).
    expect(notebook.locator(".jupyter-widgets.widget-slider").first).to_be_visible()
    expect(notebook.locator("img.widget-image").first).to_be_visible()
    assert "Error displaying widget" not in notebook.inner_text()

    # Every gallery widget rendered inside the output of the cell that constructs it.
    cells = _widget_cells(state)
    missing = [name for name in GALLERY_WIDGETS if name not in cells]
    assert not missing, f"the gallery has no code cell constructing {missing}"
    all_cells = notebook.locator(".jp-Notebook .jp-Cell")
    assert all_cells.count() == page.evaluate(_CELL_COUNT_JS), "DOM cells != notebook cells"
    widget_views: dict[str, Any] = {}
    for name, cell in cells.items():
        view = all_cells.nth(cell["index"]).locator(".jp-OutputArea-output .jupyter-widgets").first
        expect(view, f"{name} did not render").to_be_visible()
        box = view.bounding_box()
        assert box and box["width"] > 50 and box["height"] > 20, f"{name} view is empty: {box}"
        widget_views[name] = view

    # Every cell says which backend it used (printed text or a widget status line).
    for name, cell in cells.items():
        shown = cell["text"] + all_cells.nth(cell["index"]).inner_text()
        assert "backend" in shown.lower(), f"the {name} cell does not say which backend it used"

    # Images decoded: the classifier/segmentation overlays and the benchmark chart.
    overlay = _overlay_image(widget_views["SegmentationExplorer"])
    expect(overlay).to_be_visible()
    page.wait_for_function(_IMG_OK_JS, arg=overlay.element_handle())
    chart = widget_views["BenchmarkPanel"].locator("img.widget-image").first
    expect(chart).to_be_visible()
    page.wait_for_function(_IMG_OK_JS, arg=chart.element_handle())
    chart_box = chart.bounding_box()
    assert chart_box and chart_box["width"] > 200, f"benchmark chart is too small: {chart_box}"

    # What the numbers say must be on screen: PASS/FAIL and the parity metrics themselves.
    parity_text = widget_views["ParityView"].inner_text()
    assert "PASS" in parity_text, parity_text
    assert re.search(r"rel_l2|max_abs|pixel", parity_text), (
        f"ParityView shows no metrics, only: {parity_text!r}"
    )

    _shot(page, screenshot_dir, "02_after_run")
    distorted = page.evaluate(_DISTORTED_IMAGES_JS)
    for i, (name, view) in enumerate(widget_views.items()):
        view.screenshot(path=str(screenshot_dir / f"widget_{i + 1}_{name}.png"))

    # Move the SegmentationExplorer opacity slider with the keyboard; the kernel re-renders.
    explorer = widget_views["SegmentationExplorer"]
    slider = _opacity_slider(explorer)
    readout = slider.locator(".widget-readout")
    before_value = readout.inner_text().strip()
    before_src = overlay.get_attribute("src")
    before_pixels = overlay.screenshot()
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(4):
        handle.press("ArrowLeft")
    expect(readout).not_to_have_text(before_value)
    page.wait_for_function(
        "([img, old]) => img.src !== old && img.complete && img.naturalWidth > 0",
        arg=[overlay.element_handle(), before_src],
        timeout=RENDER_TIMEOUT_MS,
    )
    after_value = readout.inner_text().strip()
    assert float(after_value) < float(before_value), (before_value, after_value)
    assert overlay.screenshot() != before_pixels, "the overlay looks the same after the move"
    explorer.screenshot(path=str(screenshot_dir / "03_after_opacity_move_explorer.png"))
    _shot(page, screenshot_dir, "03_after_opacity_move")
    print(
        f"opacity {before_value} -> {after_value}; overlay src changed; "
        f"total {time.monotonic() - started:.1f} s"
    )
    # Checked last so that a layout bug does not hide whether the widgets work.
    assert not distorted, f"images drawn with the wrong aspect ratio: {distorted}"


def _opacity_slider(explorer: Any) -> Any:
    label = explorer.page.locator(".widget-label", has_text=re.compile(r"^\s*opacity\s*$"))
    return explorer.locator(".widget-slider", has=label).first


def _overlay_image(explorer: Any) -> Any:
    """The overlay is the first image in the explorer's own image+legend row (not the picker's)."""
    return explorer.locator(":scope > .widget-hbox img.widget-image").first
