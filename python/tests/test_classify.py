"""The bundled Lite0 from Python against the Rust command line, on the 16 shared photos."""

import json
import os
import subprocess

import numpy as np
from PIL import Image

from conftest import REPO


def cli_top5(photos):
    """`effnet classify -k 5 --json` as built by `cargo build --release` (CI builds it first)."""
    exe = os.environ.get("EFFNET_CLI", str(REPO / "target" / "release" / "effnet"))
    out = subprocess.run(
        [exe, "classify", "-k", "5", "-b", "8", "--json", *photos],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return {r["file"]: r["top"] for r in rows}


def test_same_top5_as_the_cli(lite0, photos):
    session = lite0.session(batch=8)
    ours = session.classify(photos, k=5)
    cli = cli_top5(photos)
    assert len(ours) == len(photos) == len(cli)
    for path, top in zip(photos, ours):
        theirs = cli[path]
        assert [p.index for p in top] == [p["index"] for p in theirs], path
        assert [p.label for p in top] == [p["label"] for p in theirs], path
        # Same library, adapter, batch and kernels: the same arithmetic, so the printed
        # probabilities agree to the last digit JSON carries, up to f64 formatting.
        for p, q in zip(top, theirs):
            assert abs(p.prob - q["prob"]) <= 1e-12, (path, p, q)


def test_every_kind_of_image_gives_the_same_logits(lite0, photos):
    """A path, its bytes, a PIL image and its pixels as a tensor are one image."""
    path = photos[0]
    with open(path, "rb") as f:
        data = f.read()
    decoded = lite0.preprocess([path])  # reference: the path
    pil = Image.open(path)
    as_array = np.asarray(pil.convert("RGB"))
    session = lite0.session(batch=4)
    from test_run import DLPackOnly  # a CPU torch tensor's protocol, without torch

    out = session.logits([path, data, pil, DLPackOnly(as_array)])
    # Bytes must match the path exactly (same decoder); PIL's JPEG decoder may differ from
    # the Rust one by a grey level here and there, which moves logits by well under 2%.
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[2], out[3])
    rel = np.linalg.norm(out[2] - out[0]) / np.linalg.norm(out[0])
    assert rel < 2e-2, rel
    assert decoded.shape == (1, 3, 224, 224)


def test_any_number_of_images_runs_in_batches(lite0, photos):
    """11 images through a batch-4 session: 3 runs, the last padded; rows in input order."""
    session = lite0.session(batch=4, resolution=64)
    all_at_once = session.logits(photos[:11])
    one_by_one = np.concatenate([session.logits([p]) for p in photos[:11]])
    assert all_at_once.shape == (11, 1000)
    # Each image's result does not depend on its batch neighbours (or the zero padding).
    np.testing.assert_allclose(all_at_once, one_by_one, rtol=0, atol=1e-5)
