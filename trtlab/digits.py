"""A small digit classifier trtlab trains itself, so precision lessons measure real accuracy.

Why: with random weights (all this CI machine can have for ResNet-50), "FP16 changed the accuracy
by 0.3 %" is noise. This network is trained reproducibly (``tools/train_digits.py``: fixed seed,
one thread, seconds on a CPU) on scikit-learn's bundled copy of the UCI handwritten-digits test
set (1797 grayscale 8x8 images, 10 classes), and its weights ship in ``data/models/``. Notebook 06
exports it, converts it to FP16 / INT8 (explicit Q/DQ) and measures the real accuracy change with
ONNX Runtime on the CPU, and with TensorRT where present.

The split is fixed (a seeded permutation: 1437 train, 360 test), so every machine measures the
same 360 test images. Input ``input`` ``[N, 1, 8, 8]`` float32 in [0, 1]; output ``logits``
``[N, 10]`` float32.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from trtlab import config
from trtlab._lazy import lazy_import
from trtlab.errors import FileFormatError, InputError

if TYPE_CHECKING:
    import torch

INPUT_NAME = "input"
OUTPUT_NAME = "logits"
NUM_CLASSES = 10
SPLIT_SEED = 0
TEST_SIZE = 360
WEIGHTS_NAME = "digits_cnn.pt"

Split = Literal["train", "test", "all"]


def weights_path() -> Path:
    """Where the shipped weights live: ``data/models/digits_cnn.pt``, a ``.json`` record beside."""
    return config.data_dir() / "models" / WEIGHTS_NAME


def digits_dataset(split: Split = "test") -> tuple[np.ndarray, np.ndarray]:
    """``(images [N, 1, 8, 8] float32 in [0, 1], labels [N] int64)`` of the fixed split.

    The pixels of the UCI set are counts 0..16 (an 8x8 grid of 4x4 blocks of a 32x32 bitmap);
    dividing by 16 maps them to [0, 1] exactly, so no value is clipped.
    """
    if split not in ("train", "test", "all"):
        raise InputError(
            f"split must be 'train', 'test' or 'all', got {split!r}",
            hint="the test split (360 images) is what accuracy is measured on",
        )
    datasets = lazy_import("sklearn.datasets", purpose="load the bundled handwritten-digits set")
    bunch = datasets.load_digits()
    images = (np.asarray(bunch.data, dtype=np.float32) / 16.0).reshape(-1, 1, 8, 8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    if split == "test":
        order = order[:TEST_SIZE]
    elif split == "train":
        order = order[TEST_SIZE:]
    return np.ascontiguousarray(images[order]), labels[order]


def digits_net() -> torch.nn.Module:
    """The architecture, randomly initialised: two 3x3 convolutions, a max-pool, two linear layers.

    About 42k parameters: small enough to train in seconds, deep enough to have Conv, ReLU, pooling
    and Gemm layers, the ops whose precision notebook 06 changes.
    """
    nn = lazy_import("torch", purpose="build the digits classifier").nn
    model: torch.nn.Module = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, NUM_CLASSES),
    )
    return model


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digits_model(path: str | Path | None = None) -> torch.nn.Module:
    """The trained classifier in eval mode, from the shipped weights (checked against their hash).

    A missing, truncated or altered weights file raises :class:`FileFormatError` naming the file
    and the command that rebuilds it, instead of a model that silently predicts noise.
    """
    tm = lazy_import("torch", purpose="load the digits classifier")
    file = Path(path) if path is not None else weights_path()
    fix = "rebuild it with: python tools/train_digits.py (about 30 s on 2 CPU cores)"
    if not file.is_file():
        raise FileFormatError(f"digits weights not found: expected a file at {file}", hint=fix)
    sidecar = file.with_suffix(".json")
    if sidecar.is_file():
        expected = json.loads(sidecar.read_text()).get("sha256")
        actual = _sha256(file)
        if expected != actual:
            raise FileFormatError(
                f"digits weights {file} do not match their record {sidecar.name}: "
                f"expected sha256 {expected}, got {actual}",
                hint=fix,
            )
    try:
        state = tm.load(file, map_location="cpu", weights_only=True)
        model = digits_net()
        model.load_state_dict(state)
    except Exception as exc:  # torch raises RuntimeError/UnpicklingError/EOFError for bad files
        raise FileFormatError(
            f"could not load digits weights from {file}: {type(exc).__name__}: {exc}", hint=fix
        ) from exc
    return model.eval()


def predict_classes(
    predict: Callable[[np.ndarray], Any], images: np.ndarray, batch: int = 120
) -> np.ndarray:
    """Class ids from any ``predict(x) -> logits`` (a runner, a wrapper's predict, a lambda).

    A runner's dict output is accepted too (its ``logits`` entry, or its only entry).
    """
    if batch < 1:
        raise InputError(f"batch must be >= 1, got {batch}", hint="e.g. batch=120")
    out: list[np.ndarray] = []
    for start in range(0, len(images), batch):
        result = predict(images[start : start + batch])
        if isinstance(result, dict):
            result = result.get(OUTPUT_NAME, next(iter(result.values())))
        logits = np.asarray(result)
        if logits.ndim != 2 or logits.shape[1] != NUM_CLASSES:
            raise InputError(
                f"predict must return logits [N, {NUM_CLASSES}], got shape {logits.shape}",
                hint="pass the classifier's predict function or a runner over its ONNX file",
            )
        out.append(logits.argmax(axis=1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Accuracy:
    """Top-1 accuracy on the fixed test split: the number precision lessons compare."""

    correct: int
    total: int

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def __str__(self) -> str:
        return f"{self.value:.2%} ({self.correct}/{self.total})"


def accuracy(predict: Callable[[np.ndarray], Any], split: Split = "test") -> Accuracy:
    """Top-1 accuracy of ``predict`` on a split of the digits set."""
    images, labels = digits_dataset(split)
    classes = predict_classes(predict, images)
    return Accuracy(int((classes == labels).sum()), len(labels))


def train(seed: int = 0, epochs: int = 40, lr: float = 2e-3) -> tuple[torch.nn.Module, list[float]]:
    """Train the classifier reproducibly; returns the model and the loss of each epoch.

    Reproducible on one machine and torch version: fixed seed, one CPU thread, deterministic
    algorithms, a fixed batch order. ``tools/train_digits.py`` calls this and saves the weights.
    """
    torch = lazy_import("torch", purpose="train the digits classifier")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        model = digits_net()
        images, labels = digits_dataset("train")
        x, y = torch.from_numpy(images), torch.from_numpy(labels)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed)
        losses: list[float] = []
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=gen)
            total = 0.0
            for start in range(0, len(y), 64):
                idx = order[start : start + 64]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            losses.append(total / len(y))
        return model.eval(), losses
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def torch_predict(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """``predict(x) -> logits`` over a torch module, for :func:`accuracy`."""
    torch = lazy_import("torch", purpose="run the digits classifier")

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            result: np.ndarray = model(torch.from_numpy(np.ascontiguousarray(x))).numpy()
        return result

    return predict


def record(path: Path, **extra: Any) -> dict[str, Any]:
    """The sidecar record of a weights file: its hash plus how it was made."""
    return {"file": path.name, "sha256": _sha256(path), **extra}


__all__ = [
    "INPUT_NAME",
    "NUM_CLASSES",
    "OUTPUT_NAME",
    "Accuracy",
    "accuracy",
    "digits_dataset",
    "digits_model",
    "digits_net",
    "predict_classes",
    "record",
    "torch_predict",
    "train",
    "weights_path",
]
