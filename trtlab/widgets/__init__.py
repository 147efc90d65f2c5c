"""Jupyter widgets over trtlab's functions (ipywidgets 8).

Each widget keeps its state in traitlets (set them from code or tests) and its view in ``.widget``;
displaying the object shows the view. Every widget takes its work as an injectable callable
(runner, build function, sweep function, doctor function) with a sensible default, and shows
errors as a red message instead of a traceback.

``import trtlab`` does not import this package (nor ipywidgets); ``import trtlab.widgets`` does.
"""

from __future__ import annotations

from trtlab.widgets._common import WidgetBase
from trtlab.widgets.bench import BenchmarkPanel
from trtlab.widgets.build import BuildPanel, tensorrt_status
from trtlab.widgets.classify import ClassifierDemo
from trtlab.widgets.environment import EnvironmentCard
from trtlab.widgets.images import ImagePicker, validate_upload
from trtlab.widgets.parity import ParityView
from trtlab.widgets.segment import SegmentationExplorer

__all__ = [
    "BenchmarkPanel",
    "BuildPanel",
    "ClassifierDemo",
    "EnvironmentCard",
    "ImagePicker",
    "ParityView",
    "SegmentationExplorer",
    "WidgetBase",
    "tensorrt_status",
    "validate_upload",
]
