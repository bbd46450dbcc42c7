"""Bad input raises a Python exception with the library's message; it never crashes."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import effnet


@pytest.fixture(scope="module")
def small(lite0):
    return lite0.session(batch=2, resolution=32)


def test_wrong_dtype(small):
    with pytest.raises(TypeError, match="float32"):
        small.run(np.zeros((1, 3, 32, 32), np.float64))
    with pytest.raises(TypeError, match="uint8"):
        small.logits([np.zeros((8, 8, 3), np.float32)])
    with pytest.raises(TypeError, match="cannot use a int as an image"):
        small.logits([42])


def test_wrong_shape(small):
    with pytest.raises(effnet.EffnetError, match="shape mismatch"):
        small.run(np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match=r"shape \[N, 3, H, W\]"):
        small.run(np.zeros((3, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"\[height, width, 3\]"):
        small.logits([np.zeros((8, 8, 4), np.uint8)])
    with pytest.raises(TypeError, match="list of images"):
        small.logits("one.jpg")


def test_unreadable_images(small, tmp_path):
    with pytest.raises(effnet.EffnetError, match="cannot decode the image"):
        small.logits([b"not a jpeg"])
    missing = tmp_path / "missing.jpg"
    with pytest.raises(effnet.EffnetError, match="cannot read"):
        small.logits([str(missing)])
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    with pytest.raises(effnet.EffnetError, match="cut.jpg"):
        small.logits([truncated])


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_hostile_checkpoints(engine, tmp_path):
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"conv_stem.weight": Evil()}, protocol=2))
    with pytest.raises(effnet.EffnetError) as e:
        engine.load(str(evil))
    assert not (tmp_path / "pwned.txt").exists() and not os.path.exists("pwned.txt")
    assert "evil.pth" in str(e.value)
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(effnet.EffnetError, match="damaged.safetensors"):
        engine.load(damaged)


def test_bad_arguments(engine, lite0, tmp_path):
    with pytest.raises(effnet.EffnetError, match="unknown model"):
        engine.load("efficientnet_b99")
    with pytest.raises(effnet.EffnetError, match="is a folder"):
        engine.load(tmp_path)
    with pytest.raises(effnet.EffnetError, match="no such file"):
        engine.load("missing/b0.safetensors")
    with pytest.raises(effnet.EffnetError, match="precision"):
        engine.load(precision="f64")
    with pytest.raises(effnet.EffnetError, match="class names"):
        engine.load(labels=["just one"])
    with pytest.raises(ValueError, match="output"):
        lite0.session(output="probabilities")
    with pytest.raises(effnet.EffnetError, match="at least 1"):
        lite0.session(batch=0)
    with pytest.raises(effnet.EffnetError, match="device allows at most"):
        lite0.session(batch=100000)  # checked before anything is allocated
    with pytest.raises(effnet.EffnetError, match="adapter 99 was asked for"):
        effnet.Engine(99)
    embed = lite0.session(resolution=32, output="embeddings")
    with pytest.raises(effnet.EffnetError, match="outputs embeddings"):
        embed.classify([np.zeros((8, 8, 3), np.uint8)])


def test_no_adapter_has_its_own_class():
    """With only a backend this machine lacks, Engine() raises NoAdapterError (a subclass of
    EffnetError) with the library's message; in a child process, so the test's own device
    is untouched."""
    code = (
        "import effnet\n"
        "try:\n    effnet.Engine()\n"
        "except effnet.NoAdapterError as e:\n"
        "    assert isinstance(e, effnet.EffnetError); print('NoAdapterError:', e)\n"
    )
    env = dict(os.environ, WGPU_BACKEND="dx12")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "NoAdapterError: no GPU adapter found" in out.stdout, out.stdout
