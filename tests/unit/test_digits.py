"""The self-trained digits classifier: shipped weights, fixed split, reproducible training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn (dev extra) ships the digits data")

from trtlab import digits
from trtlab.errors import FileFormatError, InputError


def test_split_is_fixed_disjoint_and_scaled() -> None:
    x_test, y_test = digits.digits_dataset("test")
    x_train, y_train = digits.digits_dataset("train")
    x_all, _ = digits.digits_dataset("all")
    assert x_test.shape == (360, 1, 8, 8) and x_train.shape == (1437, 1, 8, 8)
    assert x_test.dtype == np.float32 and y_test.dtype == np.int64
    assert float(x_all.min()) >= 0.0 and float(x_all.max()) == 1.0  # 16/16: scaled, not clipped
    again, _ = digits.digits_dataset("test")
    np.testing.assert_array_equal(x_test, again)
    train_rows = {row.tobytes() for row in x_train}
    # the UCI set holds a few identical images; the split itself must not repeat an index
    assert sum(row.tobytes() in train_rows for row in x_test) < 10
    assert set(np.unique(y_test)) == set(range(10)) and len(y_train) + len(y_test) == 1797


def test_shipped_weights_reach_their_recorded_accuracy() -> None:
    record = json.loads(digits.weights_path().with_suffix(".json").read_text())
    acc = digits.accuracy(digits.torch_predict(digits.digits_model()))
    assert acc.total == record["test_total"] == 360
    assert acc.correct == record["test_correct"]
    assert acc.value > 0.95


def test_altered_or_missing_weights_are_refused(tmp_path: Path) -> None:
    src = digits.weights_path()
    copy = tmp_path / src.name
    shutil.copy(src, copy)
    shutil.copy(src.with_suffix(".json"), copy.with_suffix(".json"))
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"do not match their record.*\n.*train_digits"):
        digits.digits_model(copy)
    copy.with_suffix(".json").unlink()
    copy.write_bytes(b"junk")
    with pytest.raises(FileFormatError, match="could not load digits weights"):
        digits.digits_model(copy)
    with pytest.raises(FileFormatError, match="not found"):
        digits.digits_model(tmp_path / "missing.pt")


def test_training_is_reproducible() -> None:
    a, losses_a = digits.train(seed=3, epochs=2)
    b, losses_b = digits.train(seed=3, epochs=2)
    assert losses_a == losses_b
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert np.array_equal(pa.numpy(), pb.numpy()), name
    _, losses_c = digits.train(seed=4, epochs=2)
    assert losses_c != losses_a


def test_predict_classes_checks_what_predict_returns() -> None:
    images, _ = digits.digits_dataset("test")
    with pytest.raises(InputError, match=r"logits \[N, 10\]"):
        digits.predict_classes(lambda x: np.zeros((len(x), 3)), images)
    with pytest.raises(InputError, match="batch"):
        digits.predict_classes(lambda x: x, images, batch=0)
    out = digits.predict_classes(lambda x: {"logits": np.eye(10)[np.zeros(len(x), int)]}, images)
    assert out.shape == (360,) and not out.any()
    with pytest.raises(InputError, match="split"):
        digits.digits_dataset("val")  # type: ignore[arg-type]
