#!/usr/bin/env python3
"""Regenerate tests/data/cv2/ (optional tooling; the tests read only the files it writes).

`src/preprocess/cv2.rs` reproduces `cv2.resize` on 8-bit RGB. This script asks OpenCV itself
(opencv-python-headless, numpy, Pillow for the lossless PNGs):

  in_*.png      inputs: noise, a smooth gradient with hard edges, a crop of the goldfinch photo
                (PIL-decoded, as `effnet::preprocess::load_image` decodes it), and 1-pixel-wide,
                1-pixel-tall and 2x2 images;
  out_*.png     cv2.resize of an input to one size with INTER_LINEAR, with INTER_CUBIC after
                `cv2.ipp.setUseIPP(False)` (OpenCV's own fixed-point code) and with INTER_CUBIC as
                the x86 wheels run it by default (Intel IPP);
  cases.json    input, width, height, filter ("linear", "cubic", "cubic_ipp") and expected file,
                plus the OpenCV version and build that answered;
  pipe_*.png    the u8 window (before normalisation) of mmpretrain's EfficientNetCenterCrop
                (cv2 backend, IPP cubic) and of MindSpore's Resize + CenterCrop (zero padding where
                the crop is larger), with the crop and resize rules written out below in Python;
  pipelines.json  which input, pipeline, size and expected window.

The sizes cover non-integer down- and upscaling, one axis only, exact 2x (OpenCV's INTER_AREA
shortcut), 1-pixel targets and the unchanged size (a copy). Run from the repository root:
    python3 tools/make_cv2_fixtures.py [../shared/images/n01531178_goldfinch.JPEG]
"""
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

OUT = Path("tests/data/cv2")
PHOTO = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/images/n01531178_goldfinch.JPEG")


def inputs():
    rng = np.random.default_rng(24)
    yield "noise_37x29", rng.integers(0, 256, (29, 37, 3), dtype=np.uint8)
    y, x = np.mgrid[0:30, 0:44]
    smooth = np.stack([x * 5, y * 8, (x + y) * 3], -1) % 256
    smooth[10:20, 15:30] = [250, 10, 128]
    smooth[:, 38:] = 255 - smooth[:, 38:]
    yield "edges_44x30", smooth.astype(np.uint8)
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    yield "photo_40x33", np.ascontiguousarray(photo[150:183, 200:240])
    yield "row_9x1", rng.integers(0, 256, (1, 9, 3), dtype=np.uint8)
    yield "col_1x7", rng.integers(0, 256, (7, 1, 3), dtype=np.uint8)
    yield "tiny_2x2", rng.integers(0, 256, (2, 2, 3), dtype=np.uint8)


TARGETS = {
    "noise_37x29": [(23, 17), (41, 33), (37, 10), (5, 29), (1, 1), (74, 29)],
    "edges_44x30": [(22, 15), (17, 11), (97, 63), (44, 61), (30, 30), (44, 30)],
    "photo_40x33": [(20, 16), (13, 29), (57, 41), (40, 1), (1, 33), (96, 80)],
    "row_9x1": [(4, 3), (20, 1), (9, 5)],
    "col_1x7": [(3, 2), (1, 15), (5, 7)],
    "tiny_2x2": [(1, 1), (5, 3), (3, 5)],
}


def resize(img, w, h, flag, ipp):
    cv2.ipp.setUseIPP(ipp)
    # The array is RGB; cv2 treats channels alike, so the order does not matter.
    return cv2.resize(img, (w, h), interpolation=flag)


def mmpretrain(img, size, crop_padding):
    """mmpretrain 1.x EfficientNetCenterCrop.transform + mmcv.imcrop, backend cv2, bicubic."""
    h, w = img.shape[:2]
    side = size / (size + crop_padding) * min(h, w)
    oh, ow = max(0, int(round((h - side) / 2.))), max(0, int(round((w - side) / 2.)))
    box = np.array([ow, oh, ow + side - 1, oh + side - 1]).astype(np.int32)
    box = np.maximum(np.minimum(box, [w - 1, h - 1, w - 1, h - 1]), 0)
    crop = np.ascontiguousarray(img[box[1]:box[3] + 1, box[0]:box[2] + 1])
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC)


def mindspore(img, size, short):
    """MindSpore ResizeOp (lround of the f32 long side) + CenterCropOp (pad ceil before)."""
    h, w = img.shape[:2]
    def lround(long, short_in):  # std::lround of the f32 quotient times the size: half away
        return int(math.floor(float(np.float32(long) / np.float32(short_in) * np.float32(short)) + 0.5))
    if h < w:
        rh, rw = short, lround(w, h)
    else:
        rw, rh = short, lround(h, w)
    r = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((size, size, 3), np.uint8)
    def axis(n):
        if size > n:
            pad = size - n
            return 0, pad // 2 + pad % 2, n
        return (n - size) // 2, 0, size
    (sy, dy, ny), (sx, dx, nx) = axis(rh), axis(rw)
    out[dy:dy + ny, dx:dx + nx] = r[sy:sy + ny, sx:sx + nx]
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, img in inputs():
        Image.fromarray(img).save(OUT / f"in_{name}.png", optimize=True)
        for w, h in TARGETS[name]:
            for filt, flag, ipp in [("linear", cv2.INTER_LINEAR, True), ("cubic", cv2.INTER_CUBIC, False),
                                    ("cubic_ipp", cv2.INTER_CUBIC, True)]:
                out = resize(img, w, h, flag, ipp)
                expected = f"out_{name}_{w}x{h}_{filt}.png"
                Image.fromarray(np.ascontiguousarray(out).reshape(h, w, 3)).save(OUT / expected, optimize=True)
                cases.append({"input": f"in_{name}.png", "width": w, "height": h, "filter": filt,
                              "expected": expected})
    cv2.ipp.setUseIPP(True)
    pipes = []
    for name, img in inputs():
        if img.shape[0] < 8:
            continue
        for kind, size, param in [("mmpretrain", 24, 32), ("mmpretrain", 17, 0), ("mindspore", 24, 28),
                                  ("mindspore", 24, 20)]:
            out = mmpretrain(img, size, param) if kind == "mmpretrain" else mindspore(img, size, param)
            expected = f"pipe_{name}_{kind}_{size}_{param}.png"
            Image.fromarray(out).save(OUT / expected, optimize=True)
            pipes.append({"input": f"in_{name}.png", "pipeline": kind, "size": size, "param": param,
                          "expected": expected})
    (OUT / "pipelines.json").write_text(json.dumps(pipes, indent=1) + "\n")
    meta = {"opencv": cv2.__version__, "ipp": cv2.ipp.getIppVersion(), "cases": cases}
    (OUT / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
