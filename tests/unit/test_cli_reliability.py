"""Issue 9, CLI side: every bad number, path or file is refused before anything heavy runs.

Each case calls :func:`trtlab.cli.main` in-process with model loading and export monkeypatched to
fail the test if reached, and checks the exit status (2), the message and that no traceback shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from trtlab import cli
from trtlab.cli import main
from trtlab.errors import InputError
from trtlab.tensors import TensorSpec


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--min-time", "nan"], "argument --min-time: expected a finite number of seconds"),
        (["--min-time", "inf"], "argument --min-time: expected a finite number of seconds"),
        (["--min-time", "-1"], "argument --min-time: expected a finite number of seconds"),
        (["--batch", "0"], "argument --batch: expected a batch size 1..65536, got 0"),
        (["--batch", "-1"], "argument --batch: expected a batch size"),
        (["--batch", "100000000"], "argument --batch: expected a batch size 1..65536"),
        (["--iterations", "0"], "argument --min-iters/--iterations: expected an integer >= 1"),
    ],
)
def test_bench_bad_numbers_exit_2_before_loading(
    args: list[str],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _forbid_heavy(monkeypatch)
    monkeypatch.setattr("trtlab.bench.run_cli", lambda _args: pytest.fail("bench ran"))
    assert main(["bench", "tiny_classifier", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


# -- validators (type= functions) ------------------------------------------------------------------
@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "-0.5", "soon"])
def test_seconds_refuses_non_finite_and_negative(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="seconds"):
        cli.seconds(text)


def test_seconds_accepts_finite() -> None:
    assert cli.seconds("0") == 0.0 and cli.seconds("2.5") == 2.5


@pytest.mark.parametrize("text", ["0", "-1", "100000000", "two", "1.5"])
def test_batch_size_range(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="batch size"):
        cli.batch_size(text)


def test_batch_list() -> None:
    assert cli.batch_list("1,8,32") == [1, 8, 32]
    with pytest.raises(argparse.ArgumentTypeError):
        cli.batch_list("1,,8")
    with pytest.raises(argparse.ArgumentTypeError):
        cli.batch_list("1,0")


@pytest.mark.parametrize(
    ("fn", "bad", "good"),
    [
        (cli.positive_int, "0", "3"),
        (cli.non_negative_int, "-1", "0"),
        (cli.port_number, "70000", "8888"),
        (cli.optimization_level, "6", "5"),
    ],
)
def test_int_validators(fn: Any, bad: str, good: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        fn(bad)
    assert fn(good) == int(good)


def test_batch_memory_estimate_refuses_before_allocating() -> None:
    spec = [TensorSpec("input", ("batch", 3, 224, 224), np.dtype(np.float32))]
    per = 3 * 224 * 224 * 4
    assert cli.batch_input_bytes(spec, 8) == 8 * per
    cli.check_batch_memory(spec, [1, 8], limit=8 * per)  # fits exactly
    with pytest.raises(InputError) as info:
        cli.check_batch_memory(spec, [1, 100_000_000], limit=8 * per)
    text = str(info.value)
    assert "batch 100000000 needs about 54.8 TiB" in text and "at most 8" in text


def test_quickstart_with_too_many_images_is_refused_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _forbid_heavy(monkeypatch)
    monkeypatch.setattr("trtlab._limits.available_memory", lambda: 2 * 3 * 224 * 224 * 4)
    images = []
    for i in range(3):
        images.append(tmp_path / f"{i}.jpg")
        images[-1].write_bytes(b"not really a jpeg")
    assert main(["quickstart", "--images", *map(str, images)]) == 2
    assert "batch 3 needs about" in capsys.readouterr().err


# -- quickstart / export: arguments checked before anything heavy runs ---------------------------
def _forbid_heavy(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_args: object, **_kwargs: object) -> NoReturn:
        pytest.fail("a heavy step ran before the arguments were checked")

    monkeypatch.setattr("trtlab.export.export_model", forbidden)
    monkeypatch.setattr("trtlab.models.load_model", forbidden)


def _empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.jpg", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: _empty_file(d / "empty.jpg"), "is empty"),
    ],
)
def test_quickstart_checks_images_before_loading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: Any,
    needle: str,
) -> None:
    _forbid_heavy(monkeypatch)
    path = make(tmp_path)
    assert main(["quickstart", "--images", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: image") and needle in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--iterations", "0"], "argument --iterations: expected an integer >= 1"),
        (["--warmup", "-1"], "argument --warmup: expected an integer >= 0"),
        (["--threads", "many"], "argument --threads: expected an integer >= 1"),
        (["--precision", "int8"], "invalid choice: 'int8'"),
    ],
)
def test_quickstart_bad_numbers_exit_2(
    args: list[str],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _forbid_heavy(monkeypatch)
    assert main(["quickstart", *args]) == 2
    assert needle in capsys.readouterr().err


def test_quickstart_force_reaches_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--force / --no-cache is passed to export_model (re-export over the cache)."""
    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def fake_export(name: str, **kwargs: object) -> NoReturn:
        seen.update(kwargs, name=name)
        raise Stop

    monkeypatch.setattr("trtlab.export.export_model", fake_export)
    monkeypatch.setattr("trtlab.models.load_model", lambda *a, **k: _TaggedModel())
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    for flag in ("--force", "--no-cache"):
        with pytest.raises(Stop):
            main(["quickstart", "--images", str(image), "--backend", "onnxruntime", flag])
        assert seen["name"] == "resnet50" and seen["force"] is True
    with pytest.raises(Stop):
        main(["quickstart", "--images", str(image), "--backend", "onnxruntime"])
    assert seen["force"] is False


class _TaggedModel:
    trtlab_weights = "random"


def test_export_unwritable_output_is_refused_before_exporting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _forbid_heavy(monkeypatch)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (tmp_path, "is a folder"),
        (a_file / "model.onnx", "is a file, not a folder"),
        (Path("/proc/trtlab-test/model.onnx"), "not writable"),
    ]
    for target, needle in cases:
        assert main(["export", "tiny_classifier", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: cannot write the ONNX file") and needle in err, err
        assert "Traceback" not in err and "How to fix" in err


def test_export_force_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    class Stop(Exception):
        pass

    def fake_export(name: str, **kwargs: object) -> NoReturn:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr("trtlab.export.export_model", fake_export)
    with pytest.raises(Stop):
        main(["export", "tiny_classifier", "--no-cache"])
    assert seen["force"] is True
    assert main(["export", "tiny_classifier", "--opset", "0"]) == 2
    assert "argument --opset" in capsys.readouterr().err


def test_quickstart_tensorrt_without_tensorrt_is_refused_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trtlab import capabilities

    if capabilities.can_build_engines():
        pytest.skip("TensorRT can build engines here")
    _forbid_heavy(monkeypatch)
    assert main(["quickstart", "--backend", "tensorrt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "TensorRT" in err and "Traceback" not in err


def test_quickstart_library_checks_images_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same order in the library call the notebooks use: images before the model."""
    from trtlab.errors import FileFormatError
    from trtlab.quickstart import run_quickstart

    _forbid_heavy(monkeypatch)
    with pytest.raises(FileFormatError, match="does not exist"):
        run_quickstart(images=[tmp_path / "missing.jpg"], out=None)
    with pytest.raises(InputError, match="no images"):
        run_quickstart(images=[], out=None)
    with pytest.raises(InputError, match="force"):
        run_quickstart(force="yes", out=None)  # type: ignore[arg-type]
