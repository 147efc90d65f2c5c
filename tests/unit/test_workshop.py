"""`trtlab prefetch` and `trtlab lab` with the heavy parts (export, builds, JupyterLab) faked."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from trtlab import workshop
from trtlab.cli import main
from trtlab.errors import ExportError, WeightsError


class _Exported(type(Path())):  # type: ignore[misc]
    """Stands in for export.ExportedPath: a path with .cached / .weights."""

    cached = False
    weights = "IMAGENET1K_V1"


def _fake_export(
    calls: list[dict[str, Any]], tmp: Path, *, offline: bool = False, broken: bool = False
) -> Any:
    def export_model(name: str, **kwargs: Any) -> _Exported:
        calls.append({"name": name, **kwargs})
        if broken:
            raise ExportError(f"{name} failed to export", hint="read the log")
        if offline and kwargs.get("strict") and kwargs.get("weights") == "default":
            raise WeightsError(f"pretrained weights for {name} are not available: offline")
        return _Exported(tmp / f"{name}-{kwargs.get('weights')}.onnx")

    return export_model


def _no_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    from trtlab import capabilities

    monkeypatch.setattr(capabilities, "can_build_engines", lambda caps=None: False)


def test_prefetch_exports_the_notebook_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("trtlab.export.export_model", _fake_export(calls, tmp_path))
    _no_engines(monkeypatch)
    assert main(["prefetch"]) == 0
    assert [c["name"] for c in calls] == ["resnet50", "fcn_resnet101"]
    assert all(c["weights"] == "default" and c["strict"] is True for c in calls)
    out = capsys.readouterr().out
    assert "[1/2] resnet50" in out and "[2/2] fcn_resnet101" in out
    assert "engines: skipped: TensorRT cannot build engines here" in out
    assert "prefetch: ready for the notebooks" in out


def test_prefetch_offline_says_what_it_could_not_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("trtlab.export.export_model", _fake_export(calls, tmp_path, offline=True))
    _no_engines(monkeypatch)
    assert main(["prefetch", "resnet50", "--force"]) == 0  # random-weight ONNX is usable
    assert [c["weights"] for c in calls] == ["default", None]
    assert all(c["force"] is True for c in calls)
    out = capsys.readouterr().out
    assert "could not prepare resnet50 weights" in out and "offline" in out
    assert "RANDOM weights" in out and "partly ready" in out


def test_prefetch_nothing_usable_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("trtlab.export.export_model", _fake_export(calls, tmp_path, broken=True))
    _no_engines(monkeypatch)
    assert main(["prefetch", "resnet50"]) == 1
    assert "nothing usable" in capsys.readouterr().out


def test_prefetch_unknown_model_is_refused_before_any_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("trtlab.export.export_model", _fake_export(calls, tmp_path))
    assert main(["prefetch", "resnet50", "vgg99"]) == 2
    assert calls == [] and "vgg99" in capsys.readouterr().err


def test_prefetch_builds_the_notebook_engines_where_tensorrt_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trtlab import capabilities

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("trtlab.export.export_model", _fake_export(calls, tmp_path))
    monkeypatch.setattr(capabilities, "can_build_engines", lambda caps=None: True)
    monkeypatch.setattr(capabilities, "default_precision", lambda backend, caps=None: "fp16")
    builds: list[dict[str, Any]] = []

    @dataclasses.dataclass
    class Built:
        path: Path | None

    def fake_build(onnx: Path, **kwargs: Any) -> Built:
        builds.append({"onnx": onnx, **kwargs})
        return Built(tmp_path / (Path(onnx).stem + ".engine"))

    monkeypatch.setattr("trtlab.trt.build.build_engine", fake_build)
    assert main(["prefetch"]) == 0
    assert [Path(b["onnx"]).name for b in builds] == [
        "resnet50-default.onnx",
        "fcn_resnet101-default.onnx",
    ]
    assert builds[0]["profiles"] == workshop.NOTEBOOK_ENGINES["resnet50"]
    assert all(b["precision"] == "fp16" and b["cache"] is True for b in builds)
    assert "engine ready" in capsys.readouterr().out
    assert main(["prefetch", "--no-engines"]) == 0 and len(builds) == 2


def test_lab_runs_jupyter_with_the_token_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake_call(argv: list[str], env: dict[str, str]) -> int:
        seen.update(argv=argv, env=env)
        return 0

    monkeypatch.setattr(workshop.subprocess, "call", fake_call)
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    assert main(["lab", "--port", "8899", "--notebooks", str(tmp_path)]) == 0
    token = seen["env"]["JUPYTER_TOKEN"]
    assert len(token) >= 24 and token not in " ".join(seen["argv"])
    assert "--ServerApp.ip=127.0.0.1" in seen["argv"] and "jupyterlab" in seen["argv"]
    assert f"http://127.0.0.1:8899/lab?token={token}" in capsys.readouterr().out


def test_lab_default_folder_is_the_repository_notebooks() -> None:
    found = workshop.default_notebooks_dir()
    assert found is not None and found.name == "notebooks"
    assert any(found.glob("*.ipynb"))


def test_lab_without_jupyterlab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from trtlab.errors import DependencyError

    monkeypatch.setattr(workshop, "has_module", lambda name: False)
    with pytest.raises(DependencyError, match="JupyterLab"):
        workshop.lab_command(notebooks=tmp_path)


@pytest.mark.parametrize(("euid", "allowed"), [(0, True), (1000, False)])
def test_lab_allows_root_only_when_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, euid: int, allowed: bool
) -> None:
    """Jupyter refuses to start as root (containers) without allow_root; others never get it."""
    monkeypatch.setattr(workshop.os, "geteuid", lambda: euid, raising=False)
    argv = workshop.lab_command(notebooks=tmp_path, token="t").argv
    assert ("--ServerApp.allow_root=True" in argv) is allowed
