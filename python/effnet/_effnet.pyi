"""Type stubs of the Rust extension `effnet._effnet` (python/src/). Use the wrappers in
`effnet` (`effnet.Engine`, ...); these are the classes they hold."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

class EffnetError(Exception):
    """An error from effnet; the message says what went wrong and what to do."""

class NoAdapterError(EffnetError):
    """No GPU adapter (not even a software one such as lavapipe) was found."""

def devices() -> List[Dict[str, Any]]:
    """Every adapter wgpu finds: index, name, vendor, device, device_type, driver,
    driver_info, backend, pci_bus_id."""

def known_models() -> List[str]:
    """Every model name effnet knows (`effnet models`)."""

ImageLike = Union[str, PathLike, bytes, bytearray, npt.NDArray[np.uint8]]
Resolution = Union[int, Tuple[int, int], None]

class Engine:
    def __init__(self, device: Optional[int] = None) -> None: ...
    @property
    def description(self) -> str: ...
    @property
    def adapter(self) -> Dict[str, Any]: ...
    def load(
        self,
        name_or_path: Union[str, PathLike, None] = None,
        arch: Optional[str] = None,
        precision: str = "f32",
        labels: Union[str, PathLike, Sequence[str], None] = None,
    ) -> Model: ...

class Model:
    @property
    def name(self) -> str: ...
    @property
    def class_names(self) -> List[str]: ...
    @property
    def resolution(self) -> int: ...
    @property
    def num_features(self) -> int: ...
    @property
    def precision(self) -> str: ...
    @property
    def device(self) -> str: ...
    def session(
        self, batch: int = 1, resolution: Resolution = None, output: str = "logits"
    ) -> Session: ...
    def preprocess(
        self, images: Sequence[ImageLike], resolution: Resolution = None
    ) -> npt.NDArray[np.float32]: ...

class Session:
    @property
    def batch(self) -> int: ...
    @property
    def resolution(self) -> Tuple[int, int]: ...
    @property
    def output(self) -> str: ...
    def run(self, input: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def classify(
        self, images: Sequence[ImageLike], k: int = 5
    ) -> List[List[Tuple[int, str, float, Optional[str]]]]: ...
    def logits(self, images: Sequence[ImageLike]) -> npt.NDArray[np.float32]: ...
    def embed(self, images: Sequence[ImageLike]) -> npt.NDArray[np.float32]: ...
