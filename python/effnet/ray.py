"""effnet on Ray Data: :class:`Predictor`, a callable class for ``Dataset.map_batches``.

::

    import ray, effnet.ray
    ds = ray.data.read_binary_files("photos/", include_paths=True)
    ds = ds.map_batches(
        effnet.ray.Predictor,
        fn_constructor_kwargs={"output": "embeddings"},
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_size=16,
        **effnet.ray.Predictor.remote_args(),   # num_gpus=1 and bounded restarts
    )
    ds.write_parquet("embeddings/")

Each actor builds its engine, model and session once, then maps batches of rows to their
paths and logits or embeddings. Rows may carry the encoded file (``bytes``, from
``read_binary_files``: decoded in Rust exactly as :meth:`Session.embed` decodes a path), a
decoded ``image`` (from ``read_images``) or only a ``path``.

Vulkan ignores ``CUDA_VISIBLE_DEVICES``, so on a node with several GPUs each actor maps the
GPU ids Ray assigned it to an adapter itself, by PCI bus id (``nvidia-smi`` gives the bus id
of each CUDA index), else by position among the node's GPU adapters sorted by bus id; the
actor prints which adapter it took and keeps it in ``Predictor.adapter``. An actor that was
given a GPU but finds only CPU adapters (lavapipe) fails with a message, unless
``allow_cpu_adapter=True`` or ``EFFNET_ALLOW_CPU_ADAPTER=1`` says that is intended (CI).
"""

from __future__ import annotations

import os
import subprocess
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

import effnet

# Preferred backend when one GPU shows up on several (Vulkan and GL, say).
_BACKENDS = ["Vulkan", "Metal", "Dx12", "Gl"]


class Predictor:
    """A callable class for ``ds.map_batches``: logits or embeddings with the rows' paths.

    Arguments are :meth:`effnet.Engine.load`'s and :meth:`effnet.Model.session`'s
    (``output`` defaults to ``"embeddings"``), plus ``allow_cpu_adapter`` (see the module).
    Each output batch has ``path`` and ``embedding`` (``float32[N, num_features]``) or
    ``logits`` (``float32[N, classes]``).
    """

    def __init__(
        self,
        name_or_path: Any = None,
        *,
        arch: Optional[str] = None,
        precision: str = "f32",
        labels: Any = None,
        batch: int = 8,
        resolution: Any = None,
        output: str = "embeddings",
        allow_cpu_adapter: Optional[bool] = None,
        _test_fail_once: Optional[str] = None,
    ) -> None:
        import ray

        if allow_cpu_adapter is None:
            allow_cpu_adapter = os.environ.get("EFFNET_ALLOW_CPU_ADAPTER") == "1"
        index, self.adapter = choose_adapter(ray.get_gpu_ids(), allow_cpu_adapter)
        print(f"effnet.ray.Predictor: {self.adapter}", flush=True)
        self.model = effnet.Engine(index).load(name_or_path, arch, precision, labels)
        self.session = self.model.session(batch, resolution, output)
        self._output = output
        # Test-only: the first actor to get here (across the cluster, by an atomic file
        # creation) dies as a crashed process would, so tests can check Ray's retries.
        self._fail_once = _test_fail_once

    @staticmethod
    def remote_args(
        num_gpus: float = 1, num_cpus: float = 1, max_restarts: int = 3, max_task_retries: int = 3
    ) -> Dict[str, Any]:
        """The ``map_batches`` keyword arguments Predictor is documented with: ``num_gpus``
        and ``num_cpus`` per actor, and fault tolerance bounded at ``max_restarts=3`` (a
        crashed actor is started again up to 3 times) and ``max_task_retries=3`` (a batch
        whose actor died is retried up to 3 times, so every row comes out exactly once).
        Ray Data's own default retries forever, which turns an actor that can never start
        (no adapter, a bad checkpoint) into a silent hang. Ray 2.60 warns that passing
        ``max_restarts`` and ``max_task_retries`` to ``map_batches`` is deprecated (removal
        planned for Ray 2.64, with no replacement named yet); where that bites, drop them:
        ``dict(num_gpus=1, num_cpus=1)`` keeps Ray's unbounded retries."""
        return dict(
            num_gpus=num_gpus,
            num_cpus=num_cpus,
            max_restarts=max_restarts,
            max_task_retries=max_task_retries,
        )

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, Any]:
        images = _images_of(batch)
        if self._fail_once:
            _fail_once(self._fail_once)
        if self._output == "embeddings":
            values = self.session.embed(images)
        else:
            values = self.session.logits(images)
        key = "embedding" if self._output == "embeddings" else "logits"
        paths = batch.get("path")
        if paths is None:
            paths = np.array([""] * len(values))
        return {"path": np.asarray(paths), key: values}


def _images_of(batch: Dict[str, Any]) -> List[Any]:
    """The batch's images: encoded bytes, decoded arrays, or paths to read."""
    for column in ("bytes", "image", "path"):
        if column in batch:
            values = batch[column]
            return [bytes(v) if column == "bytes" else v for v in values]
    raise ValueError(
        f"a batch with columns {sorted(batch)}; Predictor reads `bytes` (read_binary_files), "
        "`image` (read_images) or `path`"
    )


def _fail_once(marker: str) -> None:
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    os._exit(17)  # a hard crash: no exception for Ray to report as a user error


def choose_adapter(gpu_ids: List[Any], allow_cpu: bool) -> Tuple[Optional[int], str]:
    """The adapter index for the GPU ids Ray assigned (``None``: the best adapter) and a line
    saying which adapter was taken and why."""
    found = effnet.devices()
    if not gpu_ids:
        return None, "no GPU assigned by Ray: the best adapter"
    gpus = [d for d in found if d["device_type"] != "Cpu"]
    if not gpus:
        if not allow_cpu:
            names = ", ".join(sorted({d["name"] for d in found})) or "none"
            raise RuntimeError(
                f"Ray assigned GPU {gpu_ids} but the only adapters are CPU ones ({names}); "
                "install the GPU's Vulkan driver, or pass allow_cpu_adapter=True (or set "
                "EFFNET_ALLOW_CPU_ADAPTER=1) if a CPU adapter is intended (CI, lavapipe)"
            )
        return None, f"Ray GPU {gpu_ids[0]}: no GPU adapter, the CPU adapter (allowed)"
    gpu = int(gpu_ids[0])
    by_bus = _cuda_bus_ids().get(gpu)
    if by_bus is not None:
        matching = [d for d in gpus if _bus_key(d["pci_bus_id"]) == by_bus]
        if matching:
            d = _preferred(matching)
            return d["index"], f"Ray GPU {gpu} = PCI {d['pci_bus_id']}: adapter {d['index']} ({d['name']})"
    # No nvidia-smi (or no match): the Ray id as a position among the GPUs in bus order.
    # One entry per physical GPU (it may show up on Vulkan and GL); adapters without a bus
    # id come last, in wgpu's order.
    groups: Dict[Any, List[dict]] = {}
    for d in gpus:
        bus = _bus_key(d["pci_bus_id"])
        groups.setdefault((0, bus) if bus else (1, (d["index"],)), []).append(d)
    ordered = [_preferred(groups[k]) for k in sorted(groups)]
    d = ordered[gpu % len(ordered)]
    return d["index"], (
        f"Ray GPU {gpu}: adapter {d['index']} ({d['name']}, PCI {d['pci_bus_id'] or '?'}), "
        f"number {gpu % len(ordered)} of {len(ordered)} GPUs in PCI bus order"
    )


def _preferred(adapters: List[dict]) -> dict:
    rank = {b: i for i, b in enumerate(_BACKENDS)}
    return min(adapters, key=lambda d: (rank.get(d["backend"], len(rank)), d["index"]))


def _bus_key(bus_id: str) -> Optional[Tuple[int, int, int, int]]:
    """``0000:3b:00.0`` (Vulkan) and ``00000000:3B:00.0`` (nvidia-smi) as one key."""
    try:
        domain, bus, rest = bus_id.strip().lower().split(":")
        device, function = rest.split(".")
        return int(domain, 16), int(bus, 16), int(device, 16), int(function, 16)
    except ValueError:
        return None


def _cuda_bus_ids() -> Dict[int, Tuple[int, int, int, int]]:
    """CUDA index to PCI bus key from nvidia-smi (empty without it)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,pci.bus_id", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    ids = {}
    for line in out.splitlines():
        index, _, bus = line.partition(",")
        key = _bus_key(bus)
        if key is not None and index.strip().isdigit():
            ids[int(index)] = key
    return ids
