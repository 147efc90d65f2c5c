"""Engine provenance sidecars: written beside engines, checked before TensorRT deserializes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from trtlab.errors import EngineCompatibilityError, FileFormatError
from trtlab.trt.cache import engine_cache_key, key_of_identity
from trtlab.trt.provenance import (
    Provenance,
    build_identity,
    check_provenance,
    provenance_path,
    read_provenance,
    version_mismatch,
    write_provenance,
)

H200 = ("NVIDIA H200", (9, 0))
L4 = ("NVIDIA L4", (8, 9))


def _engine(tmp_path: Path, **kw: object) -> Path:
    path = tmp_path / "m.engine"
    path.write_bytes(b"plan")
    fields: dict[str, object] = {
        "trt_version": "10.13.3.9",
        "gpu_name": H200[0],
        "compute_capability": H200[1],
        "onnx_sha256": "ab" * 32,
        "onnx_path": "resnet50.onnx",
    }
    fields.update(kw)
    write_provenance(path, Provenance(**fields))  # type: ignore[arg-type]
    return path


def test_round_trip_and_sidecar_name(tmp_path: Path) -> None:
    path = _engine(tmp_path, options={"precision": "fp16"})
    assert provenance_path(path) == tmp_path / "m.engine.json"
    prov = read_provenance(path)
    assert prov is not None
    assert (prov.trt_version, prov.gpu_name, prov.compute_capability) == (
        "10.13.3.9",
        "NVIDIA H200",
        (9, 0),
    )
    assert prov.options == {"precision": "fp16"} and prov.created and prov.schema == 1
    data = json.loads((tmp_path / "m.engine.json").read_text())
    assert data["compute_capability"] == [9, 0] and data["onnx_sha256"] == "ab" * 32
    assert not list(tmp_path.glob(".*"))  # atomic: no temp left behind


def test_no_sidecar_means_nothing_to_check(tmp_path: Path) -> None:
    (tmp_path / "x.engine").write_bytes(b"plan")
    assert read_provenance(tmp_path / "x.engine") is None
    check_provenance(
        tmp_path / "x.engine", trt_version="11.4", gpu_name="any", compute_capability=(8, 9)
    )


def test_corrupt_sidecar_is_an_error_not_skipped(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    provenance_path(path).write_text("{not json")
    with pytest.raises(FileFormatError, match="not readable JSON") as info:
        read_provenance(path)
    assert info.value.hint and "m.engine.json" in info.value.hint
    provenance_path(path).write_text("[1, 2]")
    with pytest.raises(FileFormatError, match="expected a JSON object"):
        read_provenance(path)


def test_same_machine_passes(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_provenance(path, trt_version="10.13.3.9", gpu_name=H200[0], compute_capability=(9, 0))
        check_provenance(path, trt_version=(10, 13, 3), gpu_name=H200[0], compute_capability=(9, 0))


def test_other_version_and_gpu_explained(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    with pytest.raises(EngineCompatibilityError) as info:
        check_provenance(path, trt_version="11.4.0.106", gpu_name=L4[0], compute_capability=L4[1])
    text = str(info.value)
    assert (
        "built with TensorRT 10.13 on sm_90 (NVIDIA H200), this is TensorRT 11.4 on sm_89" in text
    )
    assert "only with the TensorRT version" in text and "compute capability" in text
    assert "rebuild with trtlab.build_engine('resnet50.onnx'" in text
    assert "version_compatible=True" in (info.value.hint or "")


def test_other_patch_release_is_a_mismatch(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    with pytest.raises(EngineCompatibilityError, match="only with the TensorRT version"):
        check_provenance(path, trt_version="10.13.2.6", gpu_name=H200[0], compute_capability=(9, 0))


@pytest.mark.parametrize(
    ("built", "here", "ok"),
    [
        ("10.13.3.9", "10.14.1.48", True),  # later 10.x
        ("10.13.3.9", "11.4.0.106", True),  # 10 -> 11 is supported
        ("11.0.0.1", "11.4.0.106", True),
        ("11.4.0.106", "11.0.0.1", False),  # never backwards
        ("10.13.3.9", "10.8.0.43", False),
        ("8.6.1.6", "10.13.3.9", True),  # 8 -> 10 is supported
        ("8.6.1.6", "11.4.0.106", False),  # 8 -> 11 is not
    ],
)
def test_version_compatible_rules(built: str, here: str, ok: bool) -> None:
    prov = Provenance(built, H200[0], H200[1], version_compatible=True)
    assert (version_mismatch(prov, here) is None) is ok


def test_hardware_compatible_engine_runs_on_other_ampere_plus(tmp_path: Path) -> None:
    path = _engine(tmp_path, hardware_compatibility_level="AMPERE_PLUS")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # another architecture by design: no "same sm" warning
        check_provenance(
            path, trt_version="10.13.3.9", gpu_name="NVIDIA A10", compute_capability=(8, 6)
        )
    with pytest.raises(EngineCompatibilityError, match="Ampere"):
        check_provenance(path, trt_version="10.13.3.9", gpu_name="T4", compute_capability=(7, 5))


def test_other_gpu_model_same_architecture_only_warns(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    with pytest.warns(RuntimeWarning, match="built on NVIDIA H200, this GPU is NVIDIA H100"):
        check_provenance(
            path, trt_version="10.13.3.9", gpu_name="NVIDIA H100", compute_capability=(9, 0)
        )


def test_unknown_gpu_leaves_the_verdict_to_tensorrt(tmp_path: Path) -> None:
    path = _engine(tmp_path)
    check_provenance(path, trt_version="10.13.3.9", gpu_name=None, compute_capability=None)


def test_identity_is_the_cache_key_recipe() -> None:
    """The cache key is the hash of build_identity: cache and provenance cannot disagree."""
    options = {"precision": "fp16", "version_compatible": True}
    identity = build_identity(
        onnx_sha256=__import__("hashlib").sha256(b"onnx").hexdigest(),
        options=options,
        trt_version="10.13.3.9",
        gpu_name=H200[0],
        compute_capability=H200[1],
    )
    assert key_of_identity(identity) == engine_cache_key(
        b"onnx", options, "10.13.3.9", H200[0], H200[1]
    )
    prov = Provenance.from_identity(identity, cache_key="k")
    assert prov.version_compatible and prov.options == options and prov.compute_capability == (9, 0)
