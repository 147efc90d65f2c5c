"""trtlab.widgets, headless: drive traits, sliders, dropdowns and buttons; check the data they show.

Fake runners, doctors, builders and sweeps keep this fast; no front end is needed.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from trtlab import viz
from trtlab._closing import Closeable
from trtlab.bench import BenchResult
from trtlab.doctor import Check, DoctorReport
from trtlab.errors import BuildError, FileFormatError, InputError
from trtlab.trt.progress import ProgressTracker
from trtlab.widgets import (
    BenchmarkPanel,
    BuildPanel,
    ClassifierDemo,
    EnvironmentCard,
    ImagePicker,
    ParityView,
    SegmentationExplorer,
    validate_upload,
)
from trtlab.widgets._common import STATUS_STYLES

RED_BG = STATUS_STYLES["fail"][0]
GREEN_BG = STATUS_STYLES["ok"][0]
PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255], [0, 255, 0]], dtype=np.uint8)
SEG_LABELS = ["background", "aeroplane", "bicycle", "bird"]


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _text(widget: Any) -> str:
    return html.unescape(widget.value)


def _rows(html: str) -> dict[str, str]:
    """``{row text: data-status}`` of a trtlab HTML table."""
    out = {}
    for status, style, body in re.findall(
        r'<tr data-status="(\w+)" style="([^"]*)">(.*?)</tr>', html
    ):
        text = re.sub(r"<[^>]+>", "|", body)
        out[text] = f"{status};{style}"
    return out


@pytest.fixture
def images() -> dict[str, Image.Image]:
    rng = np.random.default_rng(1)
    a = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    b = Image.fromarray(np.full((20, 20, 3), 200, dtype=np.uint8))
    return {"noise": a, "grey": b}


# -- display ---------------------------------------------------------------------------------------
def test_widgets_display_as_their_view(images: dict[str, Image.Image]) -> None:
    picker = ImagePicker(images)
    bundle = picker._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == picker.widget.model_id


def test_import_trtlab_does_not_import_widgets() -> None:
    code = (
        "import sys, trtlab; "
        "assert 'ipywidgets' not in sys.modules and 'trtlab.widgets' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- EnvironmentCard -------------------------------------------------------------------------------
def _report(ort_status: str = "missing") -> DoctorReport:
    checks = [
        Check("Python", "ok", "3.11.9"),
        Check("onnxruntime", ort_status, "", "not importable", "pip install onnxruntime", True),
        Check("pycuda", "missing", "", "not installed", "pip install pycuda", False),
        Check("TensorRT", "error", "", "probe failed", "use NVIDIA's container", False),
    ]
    return DoctorReport(checks, {"cpu", "torch"}, 0.1, {})


def test_environment_card_colours_rows_and_shows_fixes() -> None:
    calls = []

    def fake_doctor() -> DoctorReport:
        calls.append(1)
        return _report("missing" if len(calls) == 1 else "ok")

    card = EnvironmentCard(fake_doctor)
    kinds = {r["name"]: r["kind"] for r in card.rows}
    assert kinds == {"Python": "ok", "onnxruntime": "fail", "pycuda": "warn", "TensorRT": "fail"}
    rows = _rows(card.table.value)
    ort = next(v for k, v in rows.items() if "onnxruntime" in k)
    assert ort.startswith("fail;") and RED_BG in ort
    assert "pip install onnxruntime" in card.table.value  # the fix is shown
    assert "Capabilities" in card.summary.value and "<code>torch</code>" in card.summary.value
    card.refresh_button.click()
    assert len(calls) == 2
    assert {r["name"]: r["kind"] for r in card.rows}["onnxruntime"] == "ok"
    assert next(v for k, v in _rows(card.table.value).items() if "onnxruntime" in k).startswith(
        "ok;"
    )


def test_environment_card_shows_doctor_failure() -> None:
    def broken() -> DoctorReport:
        raise RuntimeError("probe exploded")

    card = EnvironmentCard(broken)
    assert card.report is None
    assert "probe exploded" in _text(card.error_box) and "trtlab-error" in _text(card.error_box)


# -- ImagePicker -----------------------------------------------------------------------------------
def test_image_picker_gallery_and_selection(images: dict[str, Image.Image]) -> None:
    picker = ImagePicker(images, thumb_size=16)
    assert picker.source == "noise" and picker.image.size == (32, 24)
    tiles = picker.widget.children[0].children
    assert len(tiles) == 2
    thumb = Image.open(io.BytesIO(tiles[0].children[0].value))
    assert max(thumb.size) == 16
    seen = []
    picker.observe(lambda c: seen.append((picker.source, c["new"].size)), names="image")
    picker.buttons["grey"].click()
    assert seen == [("grey", (20, 20))]
    assert "grey" in picker.caption.value
    picker.select("nope")
    assert "no gallery image named 'nope'" in _text(picker.error_box)
    assert picker.source == "grey"


def test_upload_validation_rejects_bad_files_visibly(images: dict[str, Image.Image]) -> None:
    picker = ImagePicker(images, max_bytes=2000)
    before = picker.image
    assert picker.load_bytes("notes.txt", b"hello, not an image") is False
    assert "not an image" in picker.error and "trtlab-error" in _text(picker.error_box)
    assert picker.image is before
    big = _png(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)))
    assert len(big) > 2000
    assert picker.load_bytes("big.png", big) is False
    assert "the limit is" in _text(picker.error_box)
    assert picker.image is before and picker.source == "noise"
    # a valid small PNG (with alpha) through the FileUpload widget's value
    rgba = Image.new("RGBA", (4, 3), (255, 0, 0, 0))
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    data = _png(rgba)
    picker.upload.value = (
        {
            "name": "dot.png",
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        },
    )
    assert picker.error == "" and _text(picker.error_box) == ""
    assert picker.source == "dot.png" and picker.image.mode == "RGB"
    arr = np.asarray(picker.image)
    assert tuple(arr[0, 0]) == (0, 0, 255) and tuple(arr[1, 1]) == (255, 255, 255)  # over white


def test_validate_upload_modes_and_errors() -> None:
    grey16 = Image.fromarray(np.array([[0, 1000], [2000, 4000]], dtype=np.uint16))
    img = validate_upload(_png(grey16), name="depth.png")
    assert img.mode == "RGB" and np.asarray(img)[1, 1, 0] == 255 and np.asarray(img)[0, 0, 0] == 0
    pal = Image.new("P", (2, 2))
    assert validate_upload(_png(pal)).mode == "RGB"
    with pytest.raises(FileFormatError, match="empty"):
        validate_upload(b"")
    with pytest.raises(FileFormatError, match="truncated"):
        jpeg = io.BytesIO()
        Image.new("RGB", (64, 64), (9, 9, 9)).save(jpeg, format="PNG")
        validate_upload(jpeg.getvalue()[:-40])
    with pytest.raises(InputError, match="pixels"):
        validate_upload(_png(Image.new("RGB", (100, 100))), max_pixels=5000)
    ico = io.BytesIO()
    Image.new("RGB", (16, 16)).save(ico, format="ICO")
    with pytest.raises(FileFormatError, match="ICO"):
        validate_upload(ico.getvalue())


# -- ClassifierDemo --------------------------------------------------------------------------------
class FakeClassifier:
    """Callable runner with fixed logits; says its backend/device like a real one."""

    def __init__(self, backend: str = "onnxruntime", logits: list[float] | None = None) -> None:
        self.backend = backend
        self.device = f"fake-{backend}"
        self.logits = np.array([logits or [0.0, 3.0, 1.0, 2.0, -1.0]], dtype=np.float32)
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self.calls.append(tuple(x.shape))
        return {"logits": self.logits}


def _tiny_pre(img: Image.Image) -> np.ndarray:
    return np.asarray(img.resize((8, 8)), dtype=np.float32).transpose(2, 0, 1)[None] / 255.0


LABELS5 = ["zero", "one", "two", "three", "four"]


def test_classifier_demo_top_k_chart_and_backend_line(images: dict[str, Image.Image]) -> None:
    runner = FakeClassifier()
    demo = ClassifierDemo(runner, images=images, labels=LABELS5, k=3, preprocess=_tiny_pre)
    assert runner.calls == [(1, 3, 8, 8)]
    probs = np.exp(runner.logits[0]) / np.exp(runner.logits[0]).sum()
    assert [p.label for p in demo.predictions] == ["one", "three", "two"]
    assert [p.probability for p in demo.predictions] == pytest.approx(probs[[1, 3, 2]], rel=1e-5)
    assert "backend=<b>onnxruntime</b>" in demo.status and "fake-onnxruntime" in demo.status
    assert demo.chart.value == demo.chart_png and demo.chart_png.startswith(b"\x89PNG")
    assert list(demo.backend_dd.options) == ["onnxruntime"]
    first = demo.chart_png
    demo.picker.buttons["grey"].click()  # new image -> new run, new chart title
    assert len(runner.calls) == 2 and demo.chart_png != first


def test_classifier_demo_reports_a_fixed_runners_own_precision(
    images: dict[str, Image.Image],
) -> None:
    runner = FakeClassifier(backend="tensorrt")
    runner.precision = "fp16"  # type: ignore[attr-defined]  # e.g. an fp16 engine
    demo = ClassifierDemo(runner, images=images, labels=LABELS5, k=3, preprocess=_tiny_pre)
    assert demo.precision == "fp16" and "precision=fp16" in demo.status
    assert list(demo.precision_dd.options) == ["fp16"]


def test_classifier_demo_factory_switches_backend(images: dict[str, Image.Image]) -> None:
    made: list[tuple[str, str]] = []

    def factory(backend: str, precision: str) -> FakeClassifier:
        made.append((backend, precision))
        logits = [0, 3, 1, 2, -1] if backend == "onnxruntime" else [5, 0, 0, 0, 0]
        return FakeClassifier(backend, logits)

    demo = ClassifierDemo(
        factory,
        images=images,
        labels=LABELS5,
        k=2,
        preprocess=_tiny_pre,
        backends=["onnxruntime", "tensorrt"],
    )
    assert made == [("onnxruntime", "fp32")] and demo.precision_dd.disabled
    demo.backend_dd.value = "tensorrt"
    assert made[-1] == ("tensorrt", "fp32") and len(made) == 2
    assert list(demo.precision_dd.options) == ["fp32", "fp16", "bf16"]
    assert demo.predictions[0].label == "zero" and "fake-tensorrt" in demo.status
    demo.precision_dd.value = "fp16"
    assert made[-1] == ("tensorrt", "fp16") and "precision=fp16" in demo.status


class ClosingClassifier(FakeClassifier, Closeable):
    """A fake runner that records being closed (real runners are Closeable)."""

    def __init__(self, backend: str = "onnxruntime") -> None:
        super().__init__(backend)
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_classifier_demo_closes_the_runners_it_made(images: dict[str, Image.Image]) -> None:
    made: list[ClosingClassifier] = []

    def factory(backend: str, precision: str) -> ClosingClassifier:
        made.append(ClosingClassifier(backend))
        return made[-1]

    demo = ClassifierDemo(
        factory,
        images=images,
        labels=LABELS5,
        preprocess=_tiny_pre,
        backends=["onnxruntime", "tensorrt"],
    )
    demo.backend_dd.value = "tensorrt"
    assert len(made) == 2 and all(r.closed == 0 for r in made)
    demo.close()
    assert [r.closed for r in made] == [1, 1]
    demo.close()  # idempotent: nothing closed twice
    assert [r.closed for r in made] == [1, 1]
    given = ClosingClassifier()
    fixed = ClassifierDemo(given, images=images, labels=LABELS5, preprocess=_tiny_pre)
    fixed.close()
    assert given.closed == 0  # a runner passed in belongs to the caller


def test_classifier_demo_shows_runner_errors(images: dict[str, Image.Image]) -> None:
    def broken(x: np.ndarray) -> dict[str, np.ndarray]:
        raise InputError("expects [1, 3, 224, 224]", hint="resize")

    broken.backend = "onnxruntime"  # type: ignore[attr-defined]
    demo = ClassifierDemo(broken, images=images, labels=LABELS5, preprocess=_tiny_pre)
    assert demo.predictions == [] and "expects [1, 3, 224, 224]" in _text(demo.error_box)


# -- SegmentationExplorer --------------------------------------------------------------------------
def _seg_map(img: Image.Image) -> np.ndarray:
    w, h = img.size
    cm = np.zeros((h, w), dtype=np.int64)
    cm[: h // 2, : w // 2] = 1
    cm[h // 2 :, w // 2 :] = 3
    return cm


def test_segmentation_explorer_opacity_and_toggles(images: dict[str, Image.Image]) -> None:
    img = images["noise"]
    ex = SegmentationExplorer(_seg_map, image=img, picker=False, labels=SEG_LABELS, palette=PALETTE)
    assert ex.present == [0, 1, 3] and sorted(ex.toggles) == [0, 1, 3]  # only present classes
    assert [b.description for b in ex.toggles.values()] == ["background", "aeroplane", "bird"]
    cm = _seg_map(img)
    # background (0) starts unticked: the photo shows around the objects
    assert ex.shown == [1, 3] and ex.toggles[0].value is False and ex.toggles[1].value is True
    shown = _decode(ex.overlay.value)
    expected = viz.blend_overlay(img, cm, alpha=0.5, palette=PALETTE, classes=[1, 3])
    np.testing.assert_array_equal(shown, expected)
    before = ex.overlay.value
    ex.opacity.value = 0.8
    assert ex.alpha == 0.8 and ex.overlay.value != before
    np.testing.assert_array_equal(
        _decode(ex.overlay.value),
        viz.blend_overlay(img, cm, alpha=0.8, palette=PALETTE, classes=[1, 3]),
    )
    ex.toggles[0].value = True
    np.testing.assert_array_equal(
        _decode(ex.overlay.value), viz.blend_overlay(img, cm, alpha=0.8, palette=PALETTE)
    )
    ex.toggles[1].value = False
    assert ex.shown == [0, 3]
    after = _decode(ex.overlay.value)
    raw = np.asarray(img)
    np.testing.assert_array_equal(after[cm == 1], raw[cm == 1])  # class 1 untinted now
    assert not np.array_equal(after[cm == 3], raw[cm == 3])
    ex.none_button.click()
    np.testing.assert_array_equal(_decode(ex.overlay.value), raw)
    assert not any(b.value for b in ex.toggles.values())
    ex.all_button.click()
    assert ex.shown == [0, 1, 3] and ex.toggles[1].value
    # shares: quarter, quarter, half
    assert ex.shares == pytest.approx({0: 0.5, 1: 0.25, 3: 0.25})
    rows = _rows(ex.share_table.value)
    assert any("aeroplane" in k and "25.0%" in k for k in rows)


def test_segmentation_explorer_with_runner_resizes_map(images: dict[str, Image.Image]) -> None:
    class FakeSeg:
        backend, device = "onnxruntime", "fake-cpu"

        def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
            cm = np.zeros((1, 6, 8), dtype=np.int64)
            cm[0, :, 4:] = 2
            return {"classes": cm}

    img = images["noise"]  # 32x24
    ex = SegmentationExplorer(
        FakeSeg(), image=img, picker=False, labels=SEG_LABELS, palette=PALETTE, preprocess=_tiny_pre
    )
    assert ex.class_map.shape == (24, 32) and ex.present == [0, 2]
    assert (ex.class_map[:, 16:] == 2).all() and (ex.class_map[:, :16] == 0).all()
    assert "fake-cpu" in ex.status_box.value
    with pytest.raises(InputError):
        ex.alpha = 2.0


def test_segmentation_explorer_shows_bad_map(images: dict[str, Image.Image]) -> None:
    ex = SegmentationExplorer(
        lambda im: np.zeros((4, 4), np.float32),
        image=images["grey"],
        picker=False,
        labels=SEG_LABELS,
        palette=PALETTE,
    )
    assert ex.class_map is None and "integer [H, W] class map" in _text(ex.error_box)


# -- BuildPanel ------------------------------------------------------------------------------------
@pytest.fixture
def tiny_onnx(tmp_path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 8, 8])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3, 8, 8])
    graph = helper.make_graph([helper.make_node("Relu", ["input"], ["output"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


def test_build_panel_disabled_with_reason(tiny_onnx: Path) -> None:
    called = []
    panel = BuildPanel(
        tiny_onnx,
        build_fn=lambda *a, **k: called.append(1),
        check_fn=lambda: (False, "TensorRT is not installed here"),
    )
    assert panel.available is False and panel.build_button.disabled
    assert all(w.disabled for w in panel.controls)
    assert "TensorRT is not installed here" in panel.reason_box.value
    assert panel.build() is None and called == []
    panel.build_button.click()
    assert called == []


def test_build_panel_default_check_matches_this_machine(tiny_onnx: Path) -> None:
    from trtlab.trt._compat import has_full_tensorrt

    if has_full_tensorrt():
        pytest.skip("full TensorRT is installed here; the missing-TensorRT message cannot show")
    panel = BuildPanel(tiny_onnx)
    assert panel.build_button.disabled and "not installed" in panel.reason


def test_build_panel_fake_build_progress_and_summary(tiny_onnx: Path) -> None:
    seen_kwargs: dict[str, Any] = {}

    def fake_build(onnx: str, **kwargs: Any) -> dict[str, Any]:
        seen_kwargs.update(kwargs)
        tracker = ProgressTracker(on_event=kwargs["progress"])
        tracker.phase_start("Building engine", None, 4)
        for step in range(4):
            tracker.phase_start("Tactics", "Building engine", 2)
            tracker.step_complete("Tactics", 0)
            tracker.phase_finish("Tactics")
            tracker.step_complete("Building engine", step)
            assert panel.progress_bar.value == 25 * (step + 1)  # live, from the event
        tracker.phase_finish("Building engine")
        return {
            "engine": b"x" * (3 * 1024 * 1024),
            "build_time_s": 12.5,
            "cache_hit": False,
            "path": None,
            "log": ["[I] built"],
        }

    panel = BuildPanel(tiny_onnx, build_fn=fake_build)
    values: list[int] = []
    panel.progress_bar.observe(lambda c: values.append(c["new"]), names="value")
    panel.precision_dd.value = "fp16"
    panel.min_input.value, panel.opt_input.value, panel.max_input.value = 1, 2, 4
    panel.workspace_slider.value = 512
    panel.build_button.click()
    assert panel.error == ""
    assert values == [25, 50, 75, 100] and panel.progress_bar.description == "100%"
    assert seen_kwargs["precision"] == "fp16"
    assert seen_kwargs["workspace"] == 512 * 1024 * 1024
    assert seen_kwargs["profiles"] == {"input": ((1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8))}
    assert panel.summary["engine_size"] == 3 * 1024 * 1024
    assert "3.00 MiB" in panel.summary_box.value and "12.5 s" in panel.summary_box.value
    assert "cache hit" in panel.summary_box.value
    assert "Tactics: done" in panel.log_area.value and "[I] built" in panel.log_area.value
    assert not panel.build_button.disabled


def test_build_panel_errors_are_shown(tiny_onnx: Path) -> None:
    def failing(onnx: str, **kwargs: Any) -> None:
        raise BuildError("parser failed at node 3", hint="check the opset")

    panel = BuildPanel(tiny_onnx, build_fn=failing)
    panel.min_input.value, panel.opt_input.value, panel.max_input.value = 4, 2, 8
    assert panel.build() is None and "min <= opt <= max" in _text(panel.error_box)
    panel.opt_input.value = 4
    assert panel.build() is None and "parser failed at node 3" in _text(panel.error_box)
    assert panel.phase == "failed" and not panel.build_button.disabled


# -- BenchmarkPanel --------------------------------------------------------------------------------
def _bench(batch: int, median: float) -> BenchResult:
    return BenchResult("tiny", "onnxruntime", "cpu", batch, np.full(5, median))


def test_benchmark_panel_updates_chart_after_each_result() -> None:
    snapshots: list[list[float]] = []

    def fake_sweep(*, batches: list[int], callback: Any, iterations: int | None = None) -> list:
        out = []
        for b in batches:
            r = _bench(b, 2.0 * b**0.5)
            out.append(r)
            callback(r)
            ys = list(panel.figure.axes[0].lines[0].get_ydata())
            snapshots.append(ys)
            assert panel.progress.value == len(out)
        return out

    panel = BenchmarkPanel(fake_sweep, batches=(1, 4, 16))
    panel.run_button.click()
    assert [len(s) for s in snapshots] == [1, 2, 3]
    assert snapshots[-1] == pytest.approx([_bench(b, 2.0 * b**0.5).throughput for b in (1, 4, 16)])
    assert len(_rows(panel.table.value)) == 3 and bytes(panel.chart_image.value).startswith(
        b"\x89PNG"
    )
    panel.chart_dd.value = "latency"
    heights = [p.get_height() for c in panel.figure.axes[0].containers for p in c]
    assert heights[:3] == pytest.approx([2.0, 4.0, 8.0])  # medians
    panel.batches_input.value = "1, x"
    panel.run()
    assert "whole numbers" in _text(panel.error_box)


def test_benchmark_panel_with_real_sweep() -> None:
    from trtlab.bench import sweep

    panel = BenchmarkPanel(lambda **kw: sweep(lambda b: lambda: None, **kw), batches=(1, 2))
    panel.iterations_input.value = 3
    results = panel.run()
    assert [r.batch for r in results] == [1, 2] and all(r.iterations == 3 for r in results)
    assert len(panel.figure.axes[0].lines[0].get_xdata()) == 2


# -- ParityView ------------------------------------------------------------------------------------
def test_parity_view_colours_failing_rows_red() -> None:
    from trtlab.compare import OutputParity, ParityReport, get_tolerance

    report = ParityReport(
        outputs=[
            OutputParity("logits", "logits", (1, 10), {"max_abs": 1e-5, "rel_l2": 1e-6}),
            OutputParity(
                "classes",
                "classmap",
                (1, 8, 8),
                {"pixel_agreement": 0.88},
                passed=False,
                reasons=["12% of pixels differ"],
            ),
        ],
        precision="fp32",
        tolerance=get_tolerance("fp32"),
    )
    view = ParityView(report)
    assert view.passed is False
    rows = _rows(view.table.value)
    logits = next(v for k, v in rows.items() if "logits" in k)
    classes = next(v for k, v in rows.items() if "classes" in k)
    assert logits.startswith("ok;") and GREEN_BG in logits
    assert classes.startswith("fail;") and RED_BG in classes
    assert "FAIL" in view.header.value and "12% of pixels differ" in view.notes.value
    assert view.rows[0]["metrics"] == {"max_abs": 1e-5, "rel_l2": 1e-6}
    assert view.rows[1]["shape"] == "1x8x8" and view.rows[1]["kind"] == "classmap"
    saved = report.to_dict()  # the JSON form reads the same
    assert ParityView(saved).rows == view.rows
    view.report = ParityReport(
        [OutputParity("logits", "logits", (1, 10))], "fp32", get_tolerance("fp32")
    )
    assert view.passed and "PASS" in view.header.value
    # anything else is refused with a visible error, not guessed at
    view.report = {"passed": True, "outputs": "logits"}
    assert view.passed is False and "ParityReport" in view.error and view.rows == []


# -- with the real data module and a real ONNX Runtime runner --------------------------------------
def test_image_picker_default_gallery_is_the_demo_images() -> None:
    from trtlab.data import demo_images

    picker = ImagePicker(thumb_size=32)
    assert list(picker.sources) == [p.stem for p in demo_images()]
    assert picker.source == demo_images()[0].stem and picker.image.mode == "RGB"


@pytest.fixture
def tiny_classifier_onnx(tmp_path: Path) -> Path:
    """input [batch, 3, 224, 224] -> channel means @ W -> logits [batch, 1000]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.zeros((3, 1000), dtype=np.float32)
    w[0, 7], w[1, 42], w[2, 281] = 5.0, 3.0, 4.0
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])
    nodes = [
        helper.make_node("ReduceMean", ["input", "axes"], ["m"], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["logits"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(w, "w"),
    ]
    graph = helper.make_graph(nodes, "tiny", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    path = tmp_path / "tiny_classifier.onnx"
    onnx.save(model, str(path))
    return path


def test_classifier_demo_end_to_end_with_onnxruntime(tiny_classifier_onnx: Path) -> None:
    from trtlab.data import imagenet_labels, topk

    demo = ClassifierDemo(str(tiny_classifier_onnx), k=3)
    assert "torch" not in demo.backend_dd.options and demo.backend == "onnxruntime"
    assert demo.error == "", demo.error
    expected = topk(_tiny_logits(demo.picker.image), 3)[0]
    assert [p.label for p in demo.predictions] == [p.label for p in expected]
    assert [p.probability for p in demo.predictions] == pytest.approx(
        [p.probability for p in expected], rel=1e-4
    )
    assert demo.predictions[0].label in {imagenet_labels()[i] for i in (7, 42, 281)}
    runner = demo.get_runner()
    assert (
        f"device=<b>{runner.device}</b>" in demo.status and "backend=<b>onnxruntime" in demo.status
    )


def _tiny_logits(image: Image.Image) -> np.ndarray:
    from trtlab.data import preprocess_imagenet

    m = preprocess_imagenet(image).mean(axis=(1, 2))
    logits = np.zeros((1, 1000), dtype=np.float64)
    logits[0, 7], logits[0, 42], logits[0, 281] = 5 * m[0], 3 * m[1], 4 * m[2]
    return logits


def test_segmentation_explorer_default_voc_names_and_palette(
    images: dict[str, Image.Image],
) -> None:
    from trtlab.data import voc_labels, voc_palette

    def fake(img: Image.Image) -> np.ndarray:
        cm = np.zeros((img.size[1], img.size[0]), dtype=np.int64)
        cm[:5, :5] = 15  # person
        return cm

    ex = SegmentationExplorer(fake, image=images["grey"], picker=False)
    assert ex.toggles[15].description == voc_labels()[15] == "person"
    rgb = _decode(ex.overlay.value)
    grey = np.full(3, 200.0)
    np.testing.assert_array_equal(rgb[0, 0], np.rint(0.5 * grey + 0.5 * voc_palette()[15]))
    np.testing.assert_array_equal(rgb[10, 10], [200, 200, 200])  # background untinted


def test_parity_view_of_a_real_compare_report() -> None:
    from trtlab.compare import compare

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 10)).astype(np.float32)
    cm = rng.integers(0, 21, (1, 8, 8)).astype(np.int64)
    bad_cm = cm.copy()
    bad_cm[0, :4] = (bad_cm[0, :4] + 1) % 21  # half the pixels differ
    ref = {"logits": logits, "classes": cm}
    cand = {"logits": logits + 1e-7, "classes": bad_cm}
    report = compare(ref, cand, reference_name="onnxruntime", candidate_name="tensorrt")
    assert not report.passed
    view = ParityView(report)
    assert view.passed is False and "tensorrt vs onnxruntime" in view.header.value
    by_name = {r["name"]: r for r in view.rows}
    assert by_name["logits"]["passed"] and not by_name["classes"]["passed"]
    assert by_name["classes"]["metrics"]["pixel_agreement"] == pytest.approx(0.5)
    assert by_name["classes"]["kind"] == "classmap" and by_name["classes"]["shape"] == "1x8x8"
    rows = _rows(view.table.value)
    assert next(v for k, v in rows.items() if "|classes|" in k).startswith(
        f"fail;background:{RED_BG}"
    )
    assert next(v for k, v in rows.items() if "|logits|" in k).startswith(
        f"ok;background:{GREEN_BG}"
    )
    assert "classes:" in view.notes.value  # the failure reason is shown
    view.report = compare(ref, ref)
    assert view.passed and "PASS" in view.header.value
