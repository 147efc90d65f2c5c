"""trtlab.models: specs, I/O contracts, offline-safe weights (fallback, strict, cached file)."""

from __future__ import annotations

import socket
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from trtlab import models
from trtlab._tv_shim import import_torchvision
from trtlab.errors import InputError, WeightsError
from trtlab.models import MODEL_SPECS, RandomWeightsWarning

RESNET_FILE = "resnet50-0676ba61.pth"
FCN_FILE = "fcn_resnet101_coco-7ecb50ca.pth"


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty TORCH_HOME; torch.hub reads it at call time."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TRTLAB_OFFLINE", "1")
    return tmp_path / "torch" / "hub" / "checkpoints"


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_specs_describe_the_contracts() -> None:
    r, f = MODEL_SPECS["resnet50"], MODEL_SPECS["fcn_resnet101"]
    assert (r.task, r.input_name, r.output_name, r.labels) == (
        "classification", "input", "logits", "imagenet",
    )  # fmt: skip
    assert r.example_shape == (1, 3, 224, 224) and r.dynamic_axes["input"] == {0: "batch"}
    assert (f.task, f.output_name, f.labels, f.num_classes) == (
        "segmentation",
        "classes",
        "voc",
        21,
    )
    assert f.dynamic_axes["classes"] == {0: "batch", 1: "height", 2: "width"}
    assert r.default_weights == "IMAGENET1K_V1" and r.opset == 18
    with pytest.raises(InputError, match="unknown model"):
        models.get_spec("vgg16")


def test_tiny_models_follow_the_contracts() -> None:
    x = torch.randn(2, 3, 40, 56)
    logits = models.tiny_classifier(7)(x)
    assert logits.shape == (2, 7) and logits.dtype == torch.float32
    seg = models.tiny_segmenter(21)
    classes = seg(x)
    assert classes.shape == (2, 40, 56) and classes.dtype == torch.int64
    assert int(classes.min()) >= 0 and int(classes.max()) < 21
    inner = seg.segmenter(x)["out"]
    assert torch.equal(classes, inner.argmax(1))
    # seeded: identical in two calls, and the caller's RNG state is untouched
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = models.tiny_classifier(), models.tiny_classifier()
    assert torch.equal(torch.rand(3), expected)
    assert _same_weights(a, b)
    assert not _same_weights(a, models.tiny_classifier(seed=1))
    assert a.trtlab_weights == "random" and not a.training


def test_resolve_weights_names() -> None:
    tv = import_torchvision()
    w = tv.models.ResNet50_Weights
    assert models.resolve_weights("resnet50") is w.IMAGENET1K_V1  # trtlab's deliberate default
    assert models.resolve_weights("resnet50", "DEFAULT") is w.IMAGENET1K_V2
    assert models.resolve_weights("resnet50", "IMAGENET1K_V2") is w.IMAGENET1K_V2
    assert models.resolve_weights("resnet50", "ResNet50_Weights.IMAGENET1K_V1") is w.IMAGENET1K_V1
    assert models.resolve_weights("resnet50", w.IMAGENET1K_V2) is w.IMAGENET1K_V2
    assert models.resolve_weights("resnet50", None) is None
    assert models.resolve_weights("resnet50", "random") is None
    assert models.resolve_weights("fcn_resnet101").name == "COCO_WITH_VOC_LABELS_V1"
    with pytest.raises(InputError, match="IMAGENET1K_V1"):
        models.resolve_weights("resnet50", "IMAGENET22K")
    with pytest.raises(InputError, match="must be a name"):
        models.resolve_weights("resnet50", 3)
    assert models.weights_tag("resnet50") == "IMAGENET1K_V1"
    assert models.weights_tag("resnet50", None) == "random"


def test_preprocess_config_matches_torchvision_presets() -> None:
    v1 = models.preprocess_config("resnet50")
    assert (v1.resize, v1.crop) == (256, 224)
    assert v1.mean == pytest.approx((0.485, 0.456, 0.406))
    assert v1.std == pytest.approx((0.229, 0.224, 0.225))
    assert models.preprocess_config("resnet50", None) == v1  # random weights: the default's
    v2 = models.preprocess_config("resnet50", "IMAGENET1K_V2")
    assert (v2.resize, v2.crop) == (232, 224)
    fcn = models.preprocess_config("fcn_resnet101")
    assert (fcn.resize, fcn.crop) == (520, None)


def test_offline_fallback_warns_exactly_once(torch_home: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = models.resnet50()
    ours = [w for w in caught if issubclass(w.category, RandomWeightsWarning)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    msg = str(ours[0].message)
    assert "meaningless" in msg and RESNET_FILE in msg and "TRTLAB_OFFLINE" in msg
    assert str(torch_home) in msg  # says where to copy the file
    assert issubclass(RandomWeightsWarning, UserWarning)
    assert model.trtlab_weights == "random" and not model.training
    out = model(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000)


def test_random_weights_are_silent_and_seeded(torch_home: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = models.resnet50(None)
        b = models.load_model("resnet50", "random")
    assert _same_weights(a, b)


def test_strict_raises(torch_home: Path) -> None:
    with pytest.raises(WeightsError, match=RESNET_FILE) as info:
        models.resnet50(strict=True)
    assert "hub/checkpoints" in str(info.value)


def test_download_failure_falls_back(torch_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Online mode: a failing download gives the warning (or WeightsError with strict)."""
    monkeypatch.setenv("TRTLAB_OFFLINE", "0")
    seen: list[float | None] = []

    def fail(*args: Any, **kwargs: Any) -> None:
        seen.append(socket.getdefaulttimeout())
        raise OSError("connection reset (test)")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fail)
    with pytest.warns(RandomWeightsWarning, match="connection reset"):
        assert models.resnet50().trtlab_weights == "random"
    with pytest.raises(WeightsError, match="connection reset"):
        models.resnet50(strict=True)
    assert seen == [models.DOWNLOAD_TIMEOUT_S] * 2  # the download ran under a socket timeout
    assert socket.getdefaulttimeout() is None  # and the global default was restored


def test_stalled_download_times_out(torch_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts the connection but never answers must not hang the notebook."""
    monkeypatch.setenv("TRTLAB_OFFLINE", "0")
    monkeypatch.setattr(models, "DOWNLOAD_TIMEOUT_S", 0.5)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    fake = SimpleNamespace(
        url=f"http://127.0.0.1:{port}/resnet50-0676ba61.pth", name="IMAGENET1K_V1"
    )
    t0 = time.perf_counter()
    try:
        sd, why = models._state_dict(fake, progress=False)
    finally:
        server.close()
    assert sd is None and "failed" in why and "timed out" in why.lower()
    assert time.perf_counter() - t0 < 5.0


def test_cached_checkpoint_is_loaded(torch_home: Path) -> None:
    tv = import_torchvision()
    torch.manual_seed(42)  # different from trtlab's seed: loaded weights must differ from random
    source = tv.models.resnet50(weights=None)
    torch_home.mkdir(parents=True)
    torch.save(source.state_dict(), torch_home / RESNET_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomWeightsWarning)
        model = models.resnet50()  # TRTLAB_OFFLINE=1: only the cache can supply weights
    assert model.trtlab_weights == "IMAGENET1K_V1"
    assert _same_weights(model, source)
    assert not _same_weights(model, models.resnet50(None))


def test_corrupt_checkpoint_falls_back(torch_home: Path) -> None:
    torch_home.mkdir(parents=True)
    (torch_home / RESNET_FILE).write_bytes(b"not a checkpoint")
    with pytest.warns(RandomWeightsWarning, match="could not be read"):
        assert models.resnet50().trtlab_weights == "random"
    torch.save({"fc.weight": torch.zeros(3)}, torch_home / RESNET_FILE)
    with pytest.raises(WeightsError, match="does not fit"):
        models.resnet50(strict=True)


@pytest.fixture(scope="module")
def fcn_random() -> Any:
    return models.fcn_resnet101(None)


def test_fcn_contract(fcn_random: Any) -> None:
    assert fcn_random.segmenter.aux_classifier is None  # dropped by default: output unchanged
    x = torch.randn(2, 3, 64, 72)
    with torch.no_grad():
        classes = fcn_random(x)
        scores = fcn_random.segmenter(x)["out"]
    assert classes.shape == (2, 64, 72) and classes.dtype == torch.int64
    assert scores.shape == (2, 21, 64, 72)
    assert torch.equal(classes, scores.argmax(1))
    assert "argmax" in (type(fcn_random).__doc__ or "")


def test_fcn_cached_checkpoint_with_aux_head(torch_home: Path, fcn_random: Any) -> None:
    """torchvision's FCN checkpoint includes the aux classifier; it is dropped on load."""
    tv = import_torchvision()
    torch.manual_seed(7)
    aux = tv.models.segmentation.fcn.FCNHead(1024, 21)  # the aux head torchvision would build
    src = {
        k: v + 0.5 if v.is_floating_point() else v
        for k, v in fcn_random.segmenter.state_dict().items()
    }
    src.update({f"aux_classifier.{k}": v for k, v in aux.state_dict().items()})
    torch_home.mkdir(parents=True)
    torch.save(src, torch_home / FCN_FILE)
    model = models.load_model("fcn_resnet101", strict=True)
    assert model.trtlab_weights == "COCO_WITH_VOC_LABELS_V1"
    sd = model.segmenter.state_dict()
    assert not any(k.startswith("aux_classifier") for k in sd)
    assert sd.keys() == {k for k in src if not k.startswith("aux_classifier")}
    assert all(torch.equal(sd[k], src[k]) for k in sd)


def test_load_model_dispatch() -> None:
    assert models.load_model("tiny_classifier").trtlab_weights == "random"
    assert models.load_model("tiny_segmenter", None)(torch.randn(1, 3, 8, 8)).shape == (1, 8, 8)
    with pytest.raises(InputError, match="random test model"):
        models.load_model("tiny_classifier", "IMAGENET1K_V1")
    with pytest.raises(InputError, match="unknown model"):
        models.load_model("resnet18")


def test_import_trtlab_models_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import trtlab.models, trtlab.data, trtlab.export, trtlab.compare, sys; "
        "heavy = ('torch', 'onnx', 'onnxruntime', 'torchvision'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
