"""Every GPU of one machine: one engine, model and session per device, and a shared queue of
batches drained by one thread per device. A faster device takes batches more often, so work
goes out in proportion to speed rather than in a fixed split. The GIL is released while each
device works, so the threads run at once."""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, List, Optional, Sequence, Union

import numpy as np


class Pool:
    """Sessions on several devices behind one call.

    ``devices`` is ``"all"`` (every GPU adapter; CPU adapters such as lavapipe only where
    there is nothing else, or with ``include_cpu``) or a list of indices into
    :func:`effnet.devices`. The other arguments are :meth:`Engine.load`'s and
    :meth:`Model.session`'s. Results come back in input order, as one session's would.
    """

    def __init__(
        self,
        devices: Union[str, Sequence[int]] = "all",
        name_or_path: Any = None,
        *,
        arch: Optional[str] = None,
        precision: str = "f32",
        labels: Any = None,
        batch: int = 8,
        resolution: Any = None,
        output: str = "logits",
        include_cpu: bool = False,
    ) -> None:
        from . import Engine  # the package imports this module first

        if devices == "all":
            engines = Engine.all(include_cpu=include_cpu)
        elif isinstance(devices, str):
            raise ValueError(f'devices must be "all" or a list of indices, not {devices!r}')
        else:
            engines = [Engine(int(i)) for i in devices]
        if not engines:
            raise ValueError("devices is empty; give at least one adapter index")
        self.engines = engines
        self.models = [e.load(name_or_path, arch, precision, labels) for e in engines]
        self.sessions = [m.session(batch, resolution, output) for m in self.models]
        self.batch = batch

    @property
    def devices(self) -> List[str]:
        """The adapters, in words, in session order."""
        return [e.description for e in self.engines]

    def classify(self, images: Sequence[Any], k: int = 5) -> list:
        """:meth:`Session.classify` over every device."""
        parts = self._map(lambda s, chunk: s.classify(chunk, k), list(images))
        return [row for part in parts for row in part]

    def logits(self, images: Sequence[Any]) -> np.ndarray:
        """:meth:`Session.logits` over every device."""
        return _concat(self._map(lambda s, chunk: s.logits(chunk), list(images)))

    def embed(self, images: Sequence[Any]) -> np.ndarray:
        """:meth:`Session.embed` over every device."""
        return _concat(self._map(lambda s, chunk: s.embed(chunk), list(images)))

    def run(self, input: Any) -> np.ndarray:
        """:meth:`Session.run` over every device."""
        from . import _tensor

        return _concat(self._map(lambda s, chunk: s.run(chunk), _tensor(input)))

    def _map(self, work: Callable[[Any, Any], Any], items: Any) -> List[Any]:
        """Runs ``work(session, chunk)`` on every ``batch``-sized chunk, each device's thread
        taking the next chunk from a shared queue; the chunks' results in input order. The
        first error stops the other threads after their current batch and is raised."""
        starts = range(0, len(items), self.batch)
        todo: "queue.SimpleQueue[int]" = queue.SimpleQueue()
        for i in range(len(starts)):
            todo.put(i)
        results: List[Any] = [None] * len(starts)
        errors: List[BaseException] = []

        def drain(session: Any) -> None:
            while not errors:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = work(session, items[starts[i] : starts[i] + self.batch])
                except BaseException as e:  # re-raised in the caller's thread
                    errors.append(e)

        threads = [threading.Thread(target=drain, args=(s,)) for s in self.sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results


def _concat(parts: List[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
