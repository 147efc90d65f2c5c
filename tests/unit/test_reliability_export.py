"""Reliability, export: the ONNX cache verifies what it reuses, opsets are honoured or refused,
a legacy trace that hard-wired a branch is caught, destinations are checked before exporting.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trtlab import export, models
from trtlab.errors import (
    DestinationError,
    DTypeError,
    ExportError,
    FileFormatError,
    InputError,
)
from trtlab.export import (
    CacheWarning,
    cache_record_path,
    export_model,
    export_onnx,
    model_onnx_path,
    verify_cached_onnx,
)

X = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def _fresh_cache() -> export.ExportedPath:
    first = export_model("tiny_classifier", exporter="legacy")
    assert not first.cached and cache_record_path(first).is_file()
    return first


def _alter_weights(path: Path) -> None:
    """A valid ONNX file whose weights differ from what was exported."""
    proto = onnx.load(str(path))
    init = max(proto.graph.initializer, key=lambda t: len(t.raw_data) or len(t.float_data))
    arr = onnx.numpy_helper.to_array(init).copy()
    arr.flat[0] += 1.0
    init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    onnx.save(proto, str(path))


def _junk(path: Path) -> None:
    path.write_bytes(b"this is not an onnx file" * 10)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _no_record(path: Path) -> None:
    cache_record_path(path).unlink()


def _junk_record(path: Path) -> None:
    cache_record_path(path).write_text("{not json")


def _other_torch(path: Path) -> None:
    rec = cache_record_path(path)
    data = json.loads(rec.read_text())
    data["torch"] = "1.13.0"
    rec.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (_junk, "size"),
        (_truncate, "truncated"),
        (_empty, "size"),
        (_alter_weights, "SHA-256"),
        (_no_record, "no verification record"),
        (_junk_record, "unreadable"),
        (_other_torch, "torch="),
    ],
)
def test_corrupt_cache_is_detected_and_reexported(damage: Any, why: str) -> None:
    """Class: export_model returned junk/truncated/altered cached ONNX as a cache hit."""
    first = _fresh_cache()
    good = first.read_bytes()
    damage(first)
    with pytest.warns(CacheWarning, match=why) as record:
        again = export_model("tiny_classifier", exporter="legacy")
    assert str(first) in str(record[0].message)  # the warning names the file
    assert not again.cached and again == first
    onnx.checker.check_model(str(again))
    assert (
        verify_cached_onnx(again, export._cache_meta("tiny_classifier", "random", 18, "legacy"))
        is None
    )
    assert len(again.read_bytes()) == len(good)
    third = export_model("tiny_classifier", exporter="legacy")
    assert third.cached  # verified again: a hit now


def test_valid_cache_is_a_verified_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_cache()
    calls: list[Any] = []
    monkeypatch.setattr("trtlab.export.export_onnx", lambda *a, **k: calls.append(a))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert export_model("tiny_classifier", exporter="legacy").cached
    assert calls == []
    export_model("tiny_classifier", exporter="legacy", force=True)  # force: no reuse
    assert len(calls) == 1


def test_corrupt_cache_and_failing_reexport_names_the_file_to_delete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _fresh_cache()
    _junk(first)

    def boom(*a: Any, **k: Any) -> None:
        raise ExportError("the exporter crashed")

    monkeypatch.setattr("trtlab.export.export_onnx", boom)
    with pytest.warns(CacheWarning), pytest.raises(ExportError, match="is corrupt") as info:
        export_model("tiny_classifier", exporter="legacy")
    assert f"delete {first}" in str(info.value)


def test_cache_names_hold_everything_that_changes_the_file() -> None:
    base = model_onnx_path("resnet50", "IMAGENET1K_V1", 18)
    others = {
        model_onnx_path("fcn_resnet101", "IMAGENET1K_V1", 18),
        model_onnx_path("resnet50", "IMAGENET1K_V2", 18),
        model_onnx_path("resnet50", "random", 18),
        model_onnx_path("resnet50", "IMAGENET1K_V1", 17),
        model_onnx_path("resnet50", "IMAGENET1K_V1", 18, "legacy"),
    }
    assert base not in others and len(others) == 5
    mm = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    assert f"-torch{mm}" in base.name


def test_new_torch_version_misses_the_old_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    old = model_onnx_path("tiny_classifier", "random", 18, "legacy")
    monkeypatch.setattr(export, "_torch_version", lambda: "9.1.0")
    assert model_onnx_path("tiny_classifier", "random", 18, "legacy") != old
    assert "torch9.1" in model_onnx_path("tiny_classifier", "random", 18).name


def test_cache_path_that_is_a_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    target = model_onnx_path("tiny_classifier", "random", 18, "legacy")
    target.mkdir(parents=True)
    with pytest.warns(CacheWarning), pytest.raises(ExportError, match="is a folder"):
        export_model("tiny_classifier", exporter="legacy")


def test_explicit_path_gets_no_record_and_is_always_written(tmp_path: Path) -> None:
    out = export_model("tiny_classifier", exporter="legacy", path=tmp_path / "a.onnx")
    assert out.is_file() and not cache_record_path(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.onnx"]


# -- destinations are checked before the (slow) export runs ----------------------------------


class _Counting(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out: torch.Tensor = self.lin(x)
        return out


@pytest.mark.parametrize("case", ["folder", "parent_file"])
def test_export_onnx_bad_destination_fails_before_tracing(tmp_path: Path, case: str) -> None:
    """Class: PermissionError / IsADirectoryError only after the whole export ran."""
    if case == "folder":
        target, match = tmp_path, "is a folder"
    else:
        (tmp_path / "f").write_text("x")
        target, match = tmp_path / "f" / "m.onnx", "is a file, not a folder"
    model = _Counting()
    with pytest.raises(DestinationError, match=match):
        export_onnx(model, target, torch.randn(1, 3), exporter="legacy")
    assert model.calls == 0


def test_export_model_bad_path_fails_before_building_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    monkeypatch.setattr(models, "load_model", lambda *a, **k: built.append("x"))
    with pytest.raises(DestinationError, match="is a folder"):
        export_model("tiny_classifier", path=tmp_path)
    assert built == []


# -- opsets: honoured or refused ----------------------------------------------------------------


def test_opset_newer_than_onnx_is_refused_up_front(tiny_classifier: Any, tmp_path: Path) -> None:
    """Class: ask opset 99, get 18 without a word."""
    model = _Counting()
    with pytest.raises(InputError, match=r"opset=99 is newer than the installed onnx"):
        export_onnx(model, tmp_path / "m.onnx", torch.randn(1, 3), opset=99)
    assert model.calls == 0 and not (tmp_path / "m.onnx").exists()


def test_opset_the_exporter_silently_replaces_is_an_error(
    tiny_classifier: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even past the up-front check (a newer onnx), the produced opset is compared."""
    import onnx.defs

    monkeypatch.setattr(onnx.defs, "onnx_opset_version", lambda: 200)
    with pytest.raises(
        ExportError, match=r"asked for opset 99, but the dynamo exporter .* opset 18"
    ):
        export_onnx(tiny_classifier, tmp_path / "m.onnx", X, opset=99)
    assert not (tmp_path / "m.onnx").exists()


def test_produced_opset_check_on_a_proto() -> None:
    proto = onnx.helper.make_model(
        onnx.helper.make_graph([], "g", [], []), opset_imports=[onnx.helper.make_opsetid("", 17)]
    )
    export._check_produced_opset(proto, 17, "legacy")
    with pytest.raises(ExportError, match=r"asked for opset 19.*produced opset 17"):
        export._check_produced_opset(proto, 19, "legacy")


# -- data-dependent control flow with the legacy exporter ---------------------------------------


class _Branchy(torch.nn.Module):
    """Data-dependent Python ``if``: tracing records only the branch the example took."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2.0
        return x + 10.0


class _HarmlessBranch(torch.nn.Module):
    """A traced ``if`` that every real input takes the same way: must still export."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.abs().sum() >= 0:
            return torch.relu(x)
        return x  # pragma: no cover - unreachable


def test_legacy_export_that_hardwired_a_branch_fails(tmp_path: Path) -> None:
    """Class: legacy exporter + data-dependent control flow = silently wrong model."""
    x = torch.ones(2, 3)
    with pytest.raises(ExportError, match="hard-wired one branch") as info:
        export_onnx(_Branchy(), tmp_path / "b.onnx", x, exporter="legacy", opset=17)
    assert "torch.where" in str(info.value) and "Python boolean" in str(info.value)
    assert not (tmp_path / "b.onnx").exists()


def test_legacy_export_with_harmless_tracer_warning_succeeds(tmp_path: Path) -> None:
    path = export_onnx(_HarmlessBranch(), tmp_path / "h.onnx", torch.randn(2, 3), exporter="legacy")
    import onnxruntime as ort

    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], np.maximum(x, 0))


def test_other_warnings_still_reach_the_user(tmp_path: Path) -> None:
    class Warns(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            warnings.warn("model says hello", UserWarning, stacklevel=1)
            return x + 1

    with pytest.warns(UserWarning, match="model says hello"):
        export_onnx(Warns(), tmp_path / "w.onnx", torch.randn(1, 2), exporter="legacy")


# -- unusable ONNX inputs: FileFormatError that says which case ----------------------------------


@pytest.mark.parametrize("case", ["empty", "folder", "missing"])
def test_onnx_runtime_runner_file_cases(tmp_path: Path, case: str) -> None:
    """Class: an empty .onnx was a BackendError; a folder "did not exist"."""
    from trtlab.runners.ort import OnnxRuntimeRunner

    path = tmp_path / "m.onnx"
    expected = {"empty": "is empty", "folder": "is a folder", "missing": "does not exist"}[case]
    if case == "empty":
        path.touch()
    elif case == "folder":
        path.mkdir()
    with pytest.raises(FileFormatError, match=expected):
        OnnxRuntimeRunner(path).activate()


@pytest.mark.parametrize("case", ["empty", "folder"])
def test_check_onnx_file_cases(tmp_path: Path, case: str) -> None:
    from trtlab.onnx_meta import check_onnx

    path = tmp_path / "m.onnx"
    path.touch() if case == "empty" else path.mkdir()
    with pytest.raises(FileFormatError, match="is empty" if case == "empty" else "is a folder"):
        check_onnx(path)


def test_records_are_written_atomically_next_to_the_file() -> None:
    first = _fresh_cache()
    rec = json.loads(cache_record_path(first).read_text())
    assert rec["sha256"] == export.file_sha256(first) and rec["size"] == first.stat().st_size
    assert rec["exporter"] == "legacy" and rec["opset"] == 18 and rec["weights"] == "random"
    assert not [p for p in first.parent.iterdir() if "trtlab-tmp" in p.name]
    assert os.access(first, os.R_OK)


class _SizeBranch(torch.nn.Module):
    """A Python ``if`` on a *dynamic size*: the trace keeps the example's branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] > 4:
            return x * 2.0
        return x + 10.0


def test_legacy_export_that_hardwired_a_size_branch_fails(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="dynamic dims doubled"):
        export_onnx(
            _SizeBranch(), tmp_path / "s.onnx", torch.ones(1, 3, 4), input_names=["input"],
            dynamic_axes={"input": {0: "batch", 2: "len"}}, exporter="legacy", opset=17,
        )  # fmt: skip
    assert not (tmp_path / "s.onnx").exists()


def test_same_size_branch_without_dynamic_dims_exports(tmp_path: Path) -> None:
    """Without dynamic dims the size is fixed: the traced branch is the only one, no error."""
    path = export_onnx(_SizeBranch(), tmp_path / "s.onnx", torch.ones(1, 3, 4), exporter="legacy")
    assert path.is_file()


@settings(max_examples=25, deadline=None)
@given(
    dtype=st.sampled_from([torch.float64, torch.int8, torch.uint8, torch.int16, torch.complex64]),
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
)
def test_example_dtypes_the_exporter_or_tensorrt_refuse(
    dtype: torch.dtype, shape: list[int]
) -> None:
    """Property: float64 / small ints / complex examples are DTypeErrors before any export."""
    model = _Counting()
    with pytest.raises(DTypeError, match=r"example input 0"):
        export_onnx(model, Path("unused.onnx"), torch.zeros(shape, dtype=dtype))
    assert model.calls == 0 and not Path("unused.onnx").exists()


@pytest.mark.parametrize("case", ["empty", "folder", "missing"])
@pytest.mark.parametrize("reader", ["onnx_digest", "input_specs"])
def test_engine_build_readers_file_cases(tmp_path: Path, case: str, reader: str) -> None:
    """The build path (cache key digest, input specs) says which case it is, too."""
    from trtlab.onnx_meta import input_specs
    from trtlab.trt.cache import onnx_digest

    fn = {"onnx_digest": onnx_digest, "input_specs": input_specs}[reader]
    path = tmp_path / "m.onnx"
    expected = {"empty": "is empty", "folder": "is a folder", "missing": "does not exist"}[case]
    if case == "empty":
        path.touch()
    elif case == "folder":
        path.mkdir()
    with pytest.raises(FileFormatError, match=expected):
        fn(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"exporter": "tracing"}, "exporter must be"),
        ({"opset": "18"}, "opset must be an int"),
        ({"opset": True}, "opset must be an int"),
        ({"opset": 17}, "dynamo exporter implements opset >= 18"),
        ({"opset": 99}, "newer than the installed onnx"),
    ],
)
def test_export_model_checks_options_before_building(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], match: str
) -> None:
    """Validation first: a bad option must not cost a ResNet-50 build (or a download)."""
    built: list[str] = []
    monkeypatch.setattr(models, "load_model", lambda *a, **k: built.append("x"))
    with pytest.raises(InputError, match=match):
        export_model("resnet50", weights=None, **kwargs)
    assert built == []


def test_trace_check_mismatch_rule() -> None:
    """NaN where PyTorch has NaN agrees; NaN where it has numbers, or a real difference, not."""
    a = np.array([1.0, np.nan, np.inf, 2.0])
    assert export._mismatch(a, a.copy()) is None
    assert export._mismatch(a, np.array([1.0, 0.0, np.inf, 2.0])) is not None
    assert export._mismatch(a, np.array([1.0, np.nan, -np.inf, 2.0])) is not None
    assert export._mismatch(a, np.array([1.0, np.nan, np.inf, 2.5])) is not None
    assert export._mismatch(a, np.array([1.0 + 1e-7, np.nan, np.inf, 2.0])) is None
    ids = np.arange(200)
    assert export._mismatch(ids, ids.copy()) is None
    assert export._mismatch(ids, np.where(ids < 10, 0, ids)) is not None  # 4.5% of ids differ
    assert export._mismatch(ids, ids[:100]) is not None  # other shape


class _LogBranch(torch.nn.Module):
    """A harmless traced ``if``, and NaN outputs for negative inputs in PyTorch and ONNX alike."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() > 0 and bool(torch.isfinite(x).all()):
            return torch.log(x)
        return x  # pragma: no cover - unreachable for finite examples


def test_nan_outputs_shared_by_torch_and_onnx_are_not_a_false_alarm(tmp_path: Path) -> None:
    x = torch.rand(2, 3) + 0.5
    path = export_onnx(_LogBranch(), tmp_path / "log.onnx", x, exporter="legacy")
    assert path.is_file()
