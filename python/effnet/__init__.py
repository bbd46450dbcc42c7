"""EfficientNet on any GPU through WGSL compute shaders (wgpu), from Python.

numpy in, numpy out::

    import effnet
    model = effnet.Engine().load()                  # the bundled EfficientNet-Lite0
    session = model.session(batch=8)
    for top in session.classify(["cat.jpg", "dog.png"], k=3):
        print(top[0].label, top[0].prob)

Images may be file paths, encoded bytes, ``uint8[H, W, 3]`` RGB arrays of any size or PIL
images; they are decoded and preprocessed in Rust with the model's exact evaluation transform.
``Session.run`` takes an already preprocessed ``float32[N, 3, H, W]`` array (a CPU torch
tensor works too). The GIL is released while images are decoded and while the GPU works, and
a session may be shared by Python threads. Errors raise :class:`EffnetError` with the
library's message (:class:`NoAdapterError` when no GPU adapter exists).

:class:`Pool` runs one session per GPU of the machine; :mod:`effnet.ray` scales out on Ray Data.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Sequence

import numpy as np

from . import _effnet
from ._effnet import EffnetError, NoAdapterError, devices, known_models
from .pool import Pool

__all__ = [
    "Engine",
    "Model",
    "Session",
    "Prediction",
    "Pool",
    "EffnetError",
    "NoAdapterError",
    "devices",
    "known_models",
]


class Prediction(NamedTuple):
    """One of an image's top-k classes."""

    index: int
    """The class index (the position in the model's output)."""
    label: str
    """The class name."""
    prob: float
    """The softmax probability, in [0, 1]."""
    wnid: Optional[str]
    """The WordNet id where the classes are ImageNet-1k's, else None."""


def _image(item: Any) -> Any:
    """A PIL image as an RGB uint8 array, a CPU tensor (DLPack) as a numpy array; anything
    else unchanged (Rust checks it)."""
    if hasattr(item, "convert") and hasattr(item, "mode") and hasattr(item, "size"):
        return np.asarray(item.convert("RGB"))
    if hasattr(item, "__dlpack__") and not isinstance(item, np.ndarray):
        return _tensor(item)
    return item


def _images(images: Any) -> Any:
    if isinstance(images, (str, bytes)) or not hasattr(images, "__iter__"):
        return images  # Rust raises the error that says to pass a list
    if isinstance(images, np.ndarray):
        # One array: a single image [H, W, 3] is a common slip; Rust names the problem.
        return list(images) if images.ndim == 4 else [images]
    return [_image(i) for i in images]


def _tensor(x: Any) -> Any:
    """A float array from numpy, a CPU torch tensor (through DLPack) or anything array-like."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "__dlpack__"):
        if hasattr(x, "detach"):  # a torch tensor that requires grad cannot be exported
            x = x.detach()
        try:
            return np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError) as e:
            raise TypeError(
                f"cannot read {type(x).__name__} through DLPack ({e}); pass a CPU tensor, "
                "e.g. x.cpu()"
            ) from e
    return np.asarray(x)


class Session:
    """A forward pass prepared for one batch size, resolution and output (made by
    :meth:`Model.session`). Any number of inputs may be given to each method: they run
    ``batch`` at a time. Safe to share across threads (runs take turns)."""

    def __init__(self, inner: "_effnet.Session", model: "Model") -> None:
        self._inner = inner
        self.model = model

    @property
    def batch(self) -> int:
        """Images per GPU run."""
        return self._inner.batch

    @property
    def resolution(self) -> "tuple[int, int]":
        """(height, width) of the input."""
        return self._inner.resolution

    @property
    def output(self) -> str:
        """``"logits"`` or ``"embeddings"``."""
        return self._inner.output

    def run(self, input: Any) -> np.ndarray:
        """Runs a preprocessed ``float32[N, 3, H, W]`` array (numpy, or a CPU torch tensor);
        returns ``float32[N, classes]`` logits or ``float32[N, num_features]`` embeddings."""
        return self._inner.run(_tensor(input))

    def classify(self, images: Sequence[Any], k: int = 5) -> List[List[Prediction]]:
        """The top ``k`` classes of each image, best first (a logits session)."""
        rows = self._inner.classify(_images(images), k)
        return [[Prediction(*p) for p in row] for row in rows]

    def logits(self, images: Sequence[Any]) -> np.ndarray:
        """The logits of each image: ``float32[N, classes]`` (a logits session)."""
        return self._inner.logits(_images(images))

    def embed(self, images: Sequence[Any]) -> np.ndarray:
        """The pooled embedding of each image: ``float32[N, num_features]`` (a session made
        with ``output="embeddings"``)."""
        return self._inner.embed(_images(images))

    def __repr__(self) -> str:
        return repr(self._inner)


class Model:
    """A model on a GPU (made by :meth:`Engine.load`): immutable; make sessions from it."""

    def __init__(self, inner: "_effnet.Model") -> None:
        self._inner = inner

    name = property(lambda self: self._inner.name, doc="The architecture's name.")
    class_names = property(
        lambda self: self._inner.class_names,
        doc="One name per class, in class index order (empty for a headless backbone).",
    )
    resolution = property(
        lambda self: self._inner.resolution,
        doc="The default (square) input resolution, the one the weights were evaluated at.",
    )
    num_features = property(
        lambda self: self._inner.num_features, doc="Length of one embedding."
    )
    precision = property(lambda self: self._inner.precision, doc='"f32" or "f16".')
    device = property(lambda self: self._inner.device, doc="The adapter, in words.")

    def session(
        self, batch: int = 1, resolution: Any = None, output: str = "logits"
    ) -> Session:
        """A session for ``batch`` images per run at ``resolution`` (an int, a
        ``(height, width)`` pair, or None for the model's), giving ``"logits"`` or
        ``"embeddings"``. Compiling its pipelines takes a moment: make it once, run it often."""
        return Session(self._inner.session(batch, resolution, output), self)

    def preprocess(self, images: Sequence[Any], resolution: Any = None) -> np.ndarray:
        """The model's exact evaluation transform (decode, resize, centre crop, normalize):
        ``float32[N, 3, H, W]``, ready for :meth:`Session.run`."""
        return self._inner.preprocess(_images(images), resolution)

    def __repr__(self) -> str:
        return repr(self._inner)


class Engine:
    """A GPU device. ``device`` is an index into :func:`devices` (None: ``EFFNET_ADAPTER``,
    else the best adapter). Raises :class:`NoAdapterError` where there is none."""

    def __init__(self, device: Optional[int] = None) -> None:
        self._inner = _effnet.Engine(device)

    @classmethod
    def all(cls, include_cpu: bool = False) -> "List[Engine]":
        """One engine per GPU adapter of the machine; CPU adapters such as lavapipe only with
        ``include_cpu``, else the best adapter alone where the machine has no GPU."""
        found = devices()
        if include_cpu:
            return [cls(d["index"]) for d in found]
        gpus = [cls(d["index"]) for d in found if d["device_type"] != "Cpu"]
        # A machine without a GPU: its best adapter alone (lavapipe also shows up on GL, and
        # two software adapters on the same cores are no faster than one).
        return gpus or [cls()]

    @property
    def description(self) -> str:
        """The adapter in words: name, backend, driver."""
        return self._inner.description

    @property
    def adapter(self) -> dict:
        """The adapter as a dict (the keys of :func:`devices`)."""
        return self._inner.adapter

    def load(
        self,
        name_or_path: Any = None,
        arch: Optional[str] = None,
        precision: str = "f32",
        labels: Any = None,
    ) -> Model:
        """Loads a model onto this device: None for the bundled EfficientNet-Lite0 (ImageNet
        weights), a checkpoint file (.safetensors, .pth, .pt, .bin, MindSpore .ckpt; ``arch``
        says which model it is where the file does not), or a model name from
        :func:`known_models` (synthetic weights: for timing and tests only). ``precision``
        is ``"f32"`` or ``"f16"`` storage; ``labels`` a file (one class name per line) or a
        list of names."""
        return Model(self._inner.load(name_or_path, arch, precision, labels))

    def __repr__(self) -> str:
        return repr(self._inner)
