"""effnet.Pool (every device of a machine) and the Ray actors' choice of adapter."""

import numpy as np
import pytest

import effnet
import effnet.ray as eray


def test_pool_returns_results_in_input_order(lite0, photos):
    """Two sessions on the one adapter here stand in for two GPUs: 7 batches of 2 from a
    shared queue, taken by whichever thread is free, joined in input order."""
    pool = effnet.Pool(devices=[0, 0], batch=2, resolution=64, output="embeddings")
    assert len(pool.sessions) == 2
    got = pool.embed(photos[:13])
    want = lite0.session(batch=2, resolution=64, output="embeddings").embed(photos[:13])
    # Same adapter, kernels and batch size: each image's embedding is computed identically.
    np.testing.assert_array_equal(got, want)
    with pytest.raises(effnet.EffnetError, match="outputs embeddings"):
        pool.classify(photos[:3])


def test_pool_all_without_a_gpu_takes_the_best_adapter_once():
    if any(d["device_type"] != "Cpu" for d in effnet.devices()):
        pytest.skip("this machine has a GPU adapter")
    assert len(effnet.Engine.all()) == 1


FAKE = [
    dict(index=0, name="GPU A", device_type="DiscreteGpu", backend="Vulkan", pci_bus_id="0000:3b:00.0"),
    dict(index=1, name="GPU B", device_type="DiscreteGpu", backend="Vulkan", pci_bus_id="0000:af:00.0"),
    dict(index=2, name="GPU A", device_type="DiscreteGpu", backend="Gl", pci_bus_id="0000:3b:00.0"),
    dict(index=3, name="llvmpipe", device_type="Cpu", backend="Vulkan", pci_bus_id=""),
]


def test_ray_gpu_ids_map_to_adapters_by_pci_bus(monkeypatch):
    monkeypatch.setattr(effnet, "devices", lambda: FAKE)
    # nvidia-smi's view: CUDA 0 is the card at af:00.0, CUDA 1 the one at 3b:00.0.
    monkeypatch.setattr(eray, "_cuda_bus_ids", lambda: {0: (0, 0xAF, 0, 0), 1: (0, 0x3B, 0, 0)})
    assert eray.choose_adapter([0], allow_cpu=False)[0] == 1
    index, note = eray.choose_adapter([1], allow_cpu=False)
    assert index == 0 and "PCI 0000:3b:00.0" in note  # Vulkan preferred over GL
    # Without nvidia-smi: the id's position among the GPUs in PCI bus order.
    monkeypatch.setattr(eray, "_cuda_bus_ids", lambda: {})
    assert eray.choose_adapter([0], allow_cpu=False)[0] == 0
    assert eray.choose_adapter([1], allow_cpu=False)[0] == 1


def test_bus_ids_of_both_spellings_are_one_key():
    assert eray._bus_key("00000000:3B:00.0") == eray._bus_key("0000:3b:00.0") == (0, 0x3B, 0, 0)
    assert eray._bus_key("") is None
