"""Engine cache key and store (no TensorRT needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trtlab.errors import FileFormatError, InputError
from trtlab.trt import cache as cache_mod
from trtlab.trt.cache import EngineCache, canonical_json, engine_cache_key

OPTS = {"precision": "fp16", "profiles": [{"input": [[1, 3, 8, 8], [2, 3, 8, 8], [4, 3, 8, 8]]}]}
BASE = (b"onnx-bytes", OPTS, "10.13.3.9", "NVIDIA H100", (9, 0))


def test_key_is_sha256_hex_and_stable() -> None:
    key = engine_cache_key(*BASE)
    assert len(key) == 64 and int(key, 16) >= 0
    assert engine_cache_key(*BASE) == key


def test_key_changes_with_each_input() -> None:
    key = engine_cache_key(*BASE)
    variants = [
        (b"onnx-bytes!", OPTS, "10.13.3.9", "NVIDIA H100", (9, 0)),
        (b"onnx-bytes", {**OPTS, "precision": "fp32"}, "10.13.3.9", "NVIDIA H100", (9, 0)),
        (b"onnx-bytes", {**OPTS, "workspace": 1 << 30}, "10.13.3.9", "NVIDIA H100", (9, 0)),
        (b"onnx-bytes", OPTS, "11.4.0.106", "NVIDIA H100", (9, 0)),
        (b"onnx-bytes", OPTS, "10.13.3.9", "NVIDIA H200", (9, 0)),
        (b"onnx-bytes", OPTS, "10.13.3.9", "NVIDIA H100", (8, 9)),
    ]
    keys = {engine_cache_key(*v) for v in variants}
    assert len(keys) == len(variants) and key not in keys


def test_key_independent_of_dict_order_and_tuple_vs_list() -> None:
    a = {"b": 1, "a": {"y": (1, 2), "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b)
    args = (b"m", "10.13", "gpu", (8, 0))
    assert engine_cache_key(args[0], a, *args[1:]) == engine_cache_key(args[0], b, *args[1:])


def test_key_from_path_equals_key_from_bytes(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"not really onnx but bytes")
    assert engine_cache_key(path, OPTS, "10", "g", (8, 0)) == engine_cache_key(
        b"not really onnx but bytes", OPTS, "10", "g", (8, 0)
    )
    with pytest.raises(FileFormatError):
        engine_cache_key(tmp_path / "missing.onnx", OPTS, "10", "g", (8, 0))


def test_key_covers_external_data(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 64])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])
    model = helper.make_model(graph)
    path = tmp_path / "ext.onnx"
    onnx.save(
        model, str(path), save_as_external_data=True, location="ext.onnx.data", size_threshold=0
    )
    assert cache_mod.external_data_files(path) == [tmp_path / "ext.onnx.data"]
    before = engine_cache_key(path, OPTS, "10", "g", (8, 0))
    data = bytearray((tmp_path / "ext.onnx.data").read_bytes())
    data[0] ^= 0xFF
    (tmp_path / "ext.onnx.data").write_bytes(bytes(data))
    assert engine_cache_key(path, OPTS, "10", "g", (8, 0)) != before


def test_put_get_hit_and_miss(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path / "engines")
    key = engine_cache_key(*BASE)
    assert cache.get(key) is None and key not in cache
    path = cache.put(key, b"\x00engine\xff", {"precision": "fp16", "io": [{"name": "input"}]})
    assert path == cache.path_for(key) and path.read_bytes() == b"\x00engine\xff"
    entry = cache.get(key)
    assert entry is not None and entry.data == b"\x00engine\xff"
    assert entry.meta["precision"] == "fp16" and entry.meta["size"] == 8
    assert entry.meta["io"] == [{"name": "input"}]
    assert json.loads(cache.meta_path_for(key).read_text())["key"] == key
    assert cache.keys() == [key]
    other = engine_cache_key(b"other", OPTS, "10", "g", (8, 0))
    assert cache.get(other) is None


def test_default_directory_is_under_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRTLAB_CACHE_DIR", str(tmp_path))
    assert EngineCache().directory == tmp_path / "engines"


def test_truncated_engine_is_a_miss(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    key = engine_cache_key(*BASE)
    cache.put(key, b"0123456789", {})
    cache.path_for(key).write_bytes(b"01234")  # size no longer matches the sidecar
    assert cache.get(key) is None
    cache.meta_path_for(key).write_text("{not json")
    assert cache.get(key) is None


def test_atomic_put_leaves_nothing_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = EngineCache(tmp_path)
    key = engine_cache_key(*BASE)
    import os

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.put(key, b"x" * 1000, {"a": 1})
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []  # no partial engine, no temp file
    assert cache.get(key) is None


def test_engine_without_sidecar_is_a_miss(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    key = engine_cache_key(*BASE)
    cache.path_for(key).parent.mkdir(parents=True, exist_ok=True)
    cache.path_for(key).write_bytes(b"engine")  # crash between the two writes
    assert cache.get(key) is None and cache.keys() == []


def test_clear(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    for i in range(3):
        cache.put(engine_cache_key(bytes([i]), OPTS, "10", "g", (8, 0)), b"e", {})
    (tmp_path / ".leftover.tmp").write_bytes(b"")
    assert cache.clear() == 3
    assert list(tmp_path.iterdir()) == [] and cache.keys() == []
    assert EngineCache(tmp_path / "nope").clear() == 0


def test_bad_key_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        EngineCache(tmp_path).path_for("../../etc/passwd")


def test_provenance_sidecars_live_and_go_with_their_entry(tmp_path: Path) -> None:
    from trtlab.trt.provenance import Provenance, read_provenance, write_provenance

    cache = EngineCache(tmp_path)
    key = engine_cache_key(*BASE)
    path = cache.put(key, b"engine", {"io": []})
    write_provenance(path, Provenance("10.13.3.9", "NVIDIA H100", (9, 0), cache_key=key))
    assert cache.keys() == [key] and cache.get(key) is not None  # the sidecar is not an entry
    assert read_provenance(path) is not None
    assert cache.clear() == 1 and list(tmp_path.iterdir()) == []


def test_key_recipe_unchanged() -> None:
    """Keys from before provenance existed still hit (same payload, same hash)."""
    import hashlib

    payload = {
        "schema": cache_mod.KEY_SCHEMA,
        "onnx_sha256": hashlib.sha256(b"onnx-bytes").hexdigest(),
        "options": OPTS,
        "tensorrt": "10.13.3.9",
        "gpu": "NVIDIA H100",
        "sm": [9, 0],
    }
    want = hashlib.sha256(canonical_json(payload).encode()).hexdigest()
    assert engine_cache_key(*BASE) == want
