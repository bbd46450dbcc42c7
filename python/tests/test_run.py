"""`Session.run` on preprocessed tensors: the golden timm output, and the image path."""

import json
import threading
import time

import numpy as np

from conftest import SHARED

MASK = (1 << 64) - 1


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def rule_values(name: str, n: int) -> np.ndarray:
    """v_i of `../shared/golden/README.md`'s rule for tensor `name`, as float32."""
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps mod 2^64, as the rule says
        x = np.uint64(fnv1a64(name.encode())) + np.arange(n, dtype=np.uint64)
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return (2.0 * u - 1.0).astype(np.float32)


def test_run_matches_the_timm_golden(engine):
    """timm's tf_efficientnet_lite0 with the golden rule's weights and input (an input that
    is already normalized, as timm's preprocessing leaves it), through session.run."""
    golden = json.loads((SHARED / "golden" / "timm-tf_efficientnet_lite0-224x224-b1.json").read_text())
    shape = golden["input_shape"]
    x = rule_values("input", int(np.prod(shape))).reshape(shape)
    model = engine.load("tf_efficientnet_lite0")  # a name: the golden rule's weights
    out = model.session(batch=shape[0], resolution=tuple(shape[2:])).run(x)
    ref = np.asarray(golden["logits"], dtype=np.float64)
    rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    # The golden README's float32 tolerance for logits.
    assert rel <= 1e-4, rel


def test_run_on_preprocessed_photos_matches_the_image_path(lite0, photos):
    """model.preprocess (Rust's timm-exact transform) then run == classify's own path."""
    session = lite0.session(batch=8)
    x = lite0.preprocess(photos)
    assert x.dtype == np.float32 and x.shape == (16, 3, 224, 224)
    from_tensor = session.run(x)
    from_images = session.logits(photos)
    ref = from_images.astype(np.float64)
    rel = np.linalg.norm(from_tensor - ref) / np.linalg.norm(ref)
    # The same tensor reaches the same kernels either way: the golden tolerance holds with
    # room to spare (the result is in fact identical).
    assert rel <= 1e-4, rel


class DLPackOnly:
    """An array that offers only the DLPack protocol, as a CPU torch tensor does."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_dlpack_and_strided_inputs(lite0, photos):
    session = lite0.session(batch=2, resolution=64)
    x = lite0.preprocess(photos[:2], resolution=64)
    ref = session.run(x)
    np.testing.assert_array_equal(session.run(DLPackOnly(x)), ref)
    # A non-contiguous view (every other image of a doubled batch) is read by its strides.
    doubled = np.repeat(x, 2, axis=0)[::2]
    assert not doubled.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(session.run(doubled), ref)


def test_one_session_shared_by_threads(lite0, photos):
    """Four threads on one session: each gets its own images' results (runs take turns)."""
    session = lite0.session(batch=2, resolution=64)
    expected = [session.logits([p]) for p in photos[:4]]
    got = [None] * 4

    def work(i):
        for _ in range(3):
            got[i] = session.logits([photos[i]])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_the_gil_is_released_while_images_run(lite0, photos):
    """Another Python thread keeps waking up (each wake-up needs the GIL) while a session
    decodes and runs 16 photos; were the GIL held, it could not wake until the call ended."""
    session = lite0.session(batch=8)
    wakeups, stop = [0], threading.Event()

    def tick():
        while not stop.is_set():
            time.sleep(0.001)
            wakeups[0] += 1

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    before, started = wakeups[0], time.perf_counter()
    session.logits(photos)
    during, seconds = wakeups[0] - before, time.perf_counter() - started
    stop.set()
    ticker.join()
    # A held GIL allows at most a wake-up or two at the call's edges; a released one allows
    # one per millisecond or so. 20 over a call of a second or more is safely between, even
    # on a loaded machine where sleeps overshoot.
    assert seconds > 0.3, "the call was too short to tell"
    assert during >= 20, (during, seconds)
