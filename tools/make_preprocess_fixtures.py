#!/usr/bin/env python3
"""Regenerate the expected values under tests/data/preprocess/ (optional tooling).

PIL is the reference for `src/preprocess`: timm and torchvision evaluate the EfficientNet
checkpoints on `Image.open(f).convert('RGB')`, `Resize(short, BICUBIC)` (which on PIL images is
`img.resize(size, Image.BICUBIC)`), `CenterCrop`, `ToTensor`, `Normalize`. This script reproduces
those steps with Pillow and numpy (no torch needed; the float steps use numpy float32, which does
the same IEEE-754 single-precision operations as torch's CPU kernels) and writes small fixtures
so that `cargo test --test preprocess --test preprocess_sources` runs without Python:

  resize/*.png         inputs (synthetic, plus PIL-decoded crops of a photo) and PIL's resize
                       outputs, lossless, so both sides see the same pixels; the sizes cover
                       up/down/mixed scaling, 1×N, and both of Pillow 13's pass orders;
  resize_cases.json    which input is resized to which size, and where PIL's answer is;
  transform_cases.json full transforms (including non-square crops with zero padding) of PNG
                       inputs, expected as the PIL-cropped u8 image before normalisation;
  normalize.json       torchvision's `(x / 255 - mean) / std` in float32 for every level 0..255;
  photos.json          the tf_efficientnet_lite0 eval transform (resize 256, crop 224,
                       mean = std = 0.5) of the photos in ../shared/images: sizes, crop offsets,
                       per-channel means and every 211th value of the NCHW tensor as a u8 level.
  photos_tf_efficientnet_lite4.json, photos_torchvision_efficientnet_v2_s.json
                       the same for two bilinear models, but made by the libraries themselves
                       rather than re-implemented: timm's `create_transform(**resolve_data_config(
                       {}, model=create_model('tf_efficientnet_lite4')))` (resize 413 bilinear,
                       crop 380, mean = std = 0.5) and torchvision's
                       `EfficientNet_V2_S_Weights.DEFAULT.transforms()` (resize 384 bilinear, crop
                       384, ImageNet mean/std), applied to `Image.open(f).convert('RGB')`. The
                       samples are the tensor mapped back to u8 levels,
                       `round((x * std + mean) * 255)` (checked to be within 1e-3 of an integer:
                       both libraries resize the PIL image, so the tensor is u8 levels normalised),
                       plus each JPEG's chroma subsampling, and the same for three decoder-free
                       synthetic images (`synth_pattern`, generated identically by the test).
                       These need torch, timm and torchvision; without them the committed files
                       are left as they are.

The committed fixtures were made with Pillow 13.0.0 and numpy 2.4 (the library ones with
torch 2.15, timm 1.0.31 and torchvision 0.29.2). Pillow <= 12 always ran the
horizontal pass first; 13 runs the vertical one first when the height shrinks by more than twice
as many pixels as the width, which changes some pixels by 1-2 levels in those cases only.

Usage:  pip install pillow numpy [torch timm torchvision] && python3 tools/make_preprocess_fixtures.py
Never run at build or test time.
"""

import json
import math
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "preprocess")
PHOTOS = next(
    (p for p in (os.path.join(ROOT, "..", "shared", "images"),
                 os.path.join(ROOT, "..", "..", "shared", "images")) if os.path.isdir(p)),
    None,
)
SAMPLE_STRIDE = 211  # prime, so the samples walk across rows, columns and channels


def synth_edges(w, h):
    """Hard 0/255 blocks (the cubic's overshoot is clamped between passes), gradients, and a
    low-amplitude noise band, compressible enough to commit."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w]
    r = np.where(((x // 5) + (y // 4)) % 2 == 0, 255, 0)
    g = (x * 255 // max(w - 1, 1)).astype(int)
    b = ((y * 255 // max(h - 1, 1)) + rng.integers(-6, 7, size=(h, w))).clip(0, 255)
    return Image.fromarray(np.stack([r, g, b], -1).astype(np.uint8), "RGB")


def synth_noise(w, h, seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8), "RGB")


def photo_crop():
    """A PIL-decoded 96×72 piece of a real photo (4:2:0 chroma, fine texture)."""
    im = Image.open(os.path.join(PHOTOS, "n01644373_tree_frog.JPEG")).convert("RGB")
    return im.crop((200, 150, 296, 222))


def photo_tall():
    """A PIL-decoded 40×100 strip: resizing it down takes Pillow 13's vertical-first branch."""
    im = Image.open(os.path.join(PHOTOS, "n01644373_tree_frog.JPEG")).convert("RGB")
    return im.crop((300, 100, 340, 200))


RESIZE_CASES = {
    "edges_37x23": (lambda: synth_edges(37, 23), [(64, 41), (13, 9), (37, 50), (90, 23), (30, 5)]),
    "edges_160x117": (lambda: synth_edges(160, 117), [(57, 43), (20, 15), (160, 45), (8, 117)]),
    "noise_1x50": (lambda: synth_noise(1, 50, 1), [(1, 17), (1, 120), (3, 7)]),
    "noise_50x1": (lambda: synth_noise(50, 1, 2), [(7, 1), (131, 1), (1, 1)]),
    "noise_1x1": (lambda: synth_noise(1, 1, 3), [(5, 3)]),
    "noise_9x7": (lambda: synth_noise(9, 7, 4), [(40, 31), (2, 3), (9, 7)]),
    "frog_96x72": (photo_crop, [(67, 50), (40, 30), (13, 10), (100, 30), (90, 20)]),
    "frog_40x100": (photo_tall, [(20, 50), (9, 30)]),
}

# Image.BILINEAR on the same inputs (the "filter": "bilinear" cases; no filter means bicubic):
# up, down, one axis, up one way and down the other, 1×N, and Pillow 13's vertical-first branch.
BILINEAR_CASES = {
    "edges_37x23": [(64, 41), (13, 9), (90, 23), (30, 5)],
    "edges_160x117": [(57, 43), (160, 45), (8, 117)],
    "noise_1x50": [(1, 17), (1, 120), (3, 7)],
    "noise_50x1": [(7, 1), (131, 1)],
    "noise_9x7": [(40, 31), (2, 3)],
    "frog_96x72": [(67, 50), (13, 10), (100, 30)],
    "frog_40x100": [(20, 50), (9, 30)],
}

# (input, height, width, crop_pct, mean, std): square, non-square with padding, banker's rounding.
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TRANSFORM_CASES = [
    ("frog_96x72", 48, 48, 0.875, *IMAGENET),
    ("frog_96x72", 36, 60, 0.875, (0.5,) * 3, (0.5,) * 3),
    ("frog_96x72", 60, 30, 1.0, *IMAGENET),
    ("edges_160x117", 57, 57, 0.9, *IMAGENET),
    ("frog_40x100", 32, 32, 0.875, *IMAGENET),
]


def scale_size(res, crop_pct):
    """timm: `scale_size = math.floor(img_size / crop_pct)`."""
    return math.floor(res / crop_pct)


def resized_size(w, h, short):
    """torchvision `_compute_resized_output_size` for an int size."""
    if w <= h:
        return short, int(short * h / w)
    return int(short * w / h), short


def center_crop(im, ch, cw):
    """torchvision.transforms.functional.center_crop on a PIL image (pads with 0 if needed)."""
    w, h = im.size
    if cw > w or ch > h:
        l, t = ((cw - w) // 2 if cw > w else 0), ((ch - h) // 2 if ch > h else 0)
        r, b = ((cw - w + 1) // 2 if cw > w else 0), ((ch - h + 1) // 2 if ch > h else 0)
        padded = Image.new("RGB", (w + l + r, h + t + b))
        padded.paste(im, (l, t))
        im, (w, h) = padded, padded.size
        if (w, h) == (cw, ch):
            return im, (-l, -t)
    else:
        l = t = 0
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    # The offset of the crop in the unpadded image (negative where torchvision pads).
    return im.crop((left, top, left + cw, top + ch)), (left - l, top - t)


def normalize(levels, mean, std):
    """ToTensor + Normalize in float32: `x.float().div(255)`, `sub_(mean)`, `div_(std)`."""
    x = levels.astype(np.float32) / np.float32(255)
    shape = (-1,) + (1,) * (levels.ndim - 1)  # per channel, channel first
    return (x - np.asarray(mean, np.float32).reshape(shape)) / np.asarray(std, np.float32).reshape(shape)


def write_resize_fixtures():
    os.makedirs(os.path.join(OUT, "resize"), exist_ok=True)
    cases, inputs = [], {}
    for name, (make, sizes) in RESIZE_CASES.items():
        im = inputs[name] = make()
        im.save(os.path.join(OUT, "resize", f"{name}.png"), optimize=True)
        for w, h in sizes:
            exp = f"{name}__{w}x{h}.png"
            im.resize((w, h), Image.BICUBIC).save(os.path.join(OUT, "resize", exp), optimize=True)
            cases.append({"input": f"{name}.png", "width": w, "height": h, "expected": exp})
    for name, sizes in BILINEAR_CASES.items():
        for w, h in sizes:
            exp = f"{name}__{w}x{h}_bilinear.png"
            inputs[name].resize((w, h), Image.BILINEAR).save(os.path.join(OUT, "resize", exp),
                                                              optimize=True)
            cases.append({"input": f"{name}.png", "width": w, "height": h, "expected": exp,
                          "filter": "bilinear"})
    dump("resize_cases.json", cases)
    return inputs


def write_transform_fixtures(inputs):
    cases = []
    for i, (name, h, w, pct, mean, std) in enumerate(TRANSFORM_CASES):
        im = inputs[name]
        short = scale_size(min(h, w), pct)
        rw, rh = resized_size(*im.size, short)
        crop, offset = center_crop(im.resize((rw, rh), Image.BICUBIC), h, w)
        exp = f"transform_{i}_{name}_{h}x{w}.png"
        crop.save(os.path.join(OUT, "resize", exp), optimize=True)
        cases.append({"input": f"{name}.png", "height": h, "width": w, "crop_pct": pct,
                      "resize_short": short, "resized": [rw, rh], "offset": offset,
                      "mean": mean, "std": std, "expected": exp})
    dump("transform_cases.json", cases)


def write_normalize_fixture():
    levels = np.arange(256)
    specs = [IMAGENET]  # mean = std = 0.5 is exercised by photos.json
    dump("normalize.json", [
        {"mean": m, "std": s,
         "values": [[float(v) for v in normalize(levels, m[c], s[c])] for c in range(3)]}
        for m, s in specs])


def photo_files():
    return [f for f in sorted(os.listdir(PHOTOS)) if f.endswith(".JPEG")]


def write_photo_fixture():
    res, pct = 224, 0.875  # tf_efficientnet_lite0: 224 px, crop_pct 0.875 -> resize 256
    short = scale_size(res, pct)
    photos = []
    for f in photo_files():
        im = Image.open(os.path.join(PHOTOS, f)).convert("RGB")
        rw, rh = resized_size(*im.size, short)
        crop, (left, top) = center_crop(im.resize((rw, rh), Image.BICUBIC), res, res)
        levels = np.asarray(crop).transpose(2, 0, 1)  # NCHW, as u8 levels
        tensor = normalize(levels, (0.5,) * 3, (0.5,) * 3)
        photos.append({"file": f, "size": list(im.size), "resized": [rw, rh],
                       "crop": [left, top],
                       "channel_mean": [float(tensor[c].mean(dtype=np.float64)) for c in range(3)],
                       "samples": levels.reshape(-1)[::SAMPLE_STRIDE].tolist()})
    dump("photos.json", {"height": res, "width": res, "crop_pct": pct, "resize_short": short,
                         "mean": [0.5] * 3, "std": [0.5] * 3, "sample_stride": SAMPLE_STRIDE,
                         "photos": photos})


def synth_pattern(w, h):
    """A decoder-free input for the library transforms, generated identically by
    tests/preprocess_sources.rs: an XOR pattern (edges at every scale), a gradient, a checkerboard."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    r = ((x * 7) ^ (y * 13)) & 255
    g = (x + 2 * y) * 255 // (w - 1 + 2 * (h - 1))
    b = (x // 9 + y // 5) % 2 * 255
    return Image.fromarray(np.stack([r, g, b], -1).astype(np.uint8), "RGB")


# Landscape downscale, portrait > 2:1 downscale (Pillow 13's vertical-first pass order), upscale.
SYNTH_SIZES = [(640, 480), (500, 1500), (300, 200)]


def jpeg_sampling(im):
    """PIL's view of a JPEG's components: "grey", or the chroma subsampling of a YCbCr file."""
    if im.mode == "L":
        return "grey"
    h, v = im.layer[0][1:3]
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0"}.get((h, v), f"h{h}v{v}")


def library_entry(im, transform, resize, res, mean, std, what):
    """What photos.json stores for one image, from the library's own tensor."""
    import torch

    x = transform(im)
    assert tuple(x.shape) == (3, res, res) and x.dtype == torch.float32, (what, x.shape)
    rw, rh = resize(im).size
    # torchvision center_crop: int(round((size - crop) / 2.0)), half to even.
    left, top = int(round((rw - res) / 2.0)), int(round((rh - res) / 2.0))
    m = torch.tensor(mean, dtype=torch.float64).reshape(3, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).reshape(3, 1, 1)
    scaled = (x.double() * s + m) * 255
    levels = scaled.round()
    off = float((scaled - levels).abs().max())
    assert off < 1e-3, f"{what}: tensor is {off} off u8 levels"
    return {"size": list(im.size), "resized": [rw, rh], "crop": [left, top],
            "channel_mean": [float(x[c].double().mean()) for c in range(3)],
            "samples": levels.to(torch.int64).reshape(-1)[::SAMPLE_STRIDE].tolist()}


def write_library_photo_fixture(name, meta, transform, resize, res, mean, std):
    """Apply a library's own eval `transform` (`resize` is its resize step alone, to record the
    resized size) to each photo and to the synthetic patterns."""
    photos = []
    for f in photo_files():
        raw = Image.open(os.path.join(PHOTOS, f))
        entry = library_entry(raw.convert("RGB"), transform, resize, res, mean, std, f)
        photos.append(dict({"file": f, "jpeg": jpeg_sampling(raw)}, **entry))
    synthetic = [library_entry(synth_pattern(w, h), transform, resize, res, mean, std, (w, h))
                 for w, h in SYNTH_SIZES]
    dump(f"photos_{name}.json", dict(meta, height=res, width=res, mean=list(mean), std=list(std),
                                     sample_stride=SAMPLE_STRIDE, photos=photos,
                                     synthetic=synthetic))


def write_library_photo_fixtures():
    try:
        import timm
        import torch
        import torchvision
        import torchvision.transforms.functional as F
    except ImportError as e:
        print(f"skipping the timm/torchvision photo fixtures ({e})", file=sys.stderr)
        return
    versions = {"timm": timm.__version__, "torchvision": torchvision.__version__,
                "torch": torch.__version__, "pillow": Image.__version__}

    model = timm.create_model("tf_efficientnet_lite4", pretrained=False)
    cfg = timm.data.resolve_data_config({}, model=model)
    assert (cfg["input_size"], cfg["crop_pct"], cfg["interpolation"]) == ((3, 380, 380), 0.92,
                                                                           "bilinear"), cfg
    tf = timm.data.create_transform(**cfg)
    resize = tf.transforms[0]
    assert type(resize).__name__ == "Resize" and resize.size == 413, tf
    write_library_photo_fixture(
        "tf_efficientnet_lite4",
        {"model": "tf_efficientnet_lite4", "transform": repr(tf), "versions": versions,
         "crop_pct": cfg["crop_pct"], "resize_short": resize.size,
         "interpolation": cfg["interpolation"]},
        tf, resize, 380, cfg["mean"], cfg["std"])

    tv = torchvision.models.EfficientNet_V2_S_Weights.DEFAULT.transforms()
    assert (tv.crop_size, tv.resize_size, tv.interpolation.value) == ([384], [384], "bilinear"), tv
    write_library_photo_fixture(
        "torchvision_efficientnet_v2_s",
        {"model": "efficientnet_v2_s", "weights": "EfficientNet_V2_S_Weights.DEFAULT",
         "transform": repr(tv), "versions": versions,
         "resize_short": tv.resize_size[0], "interpolation": tv.interpolation.value},
        tv, lambda im: F.resize(im, tv.resize_size, interpolation=tv.interpolation,
                                antialias=tv.antialias),
        tv.crop_size[0], tv.mean, tv.std)


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main():
    if PHOTOS is None:
        sys.exit("cannot find shared/images next to the repository")
    inputs = write_resize_fixtures()
    write_transform_fixtures(inputs)
    write_normalize_fixture()
    write_photo_fixture()
    write_library_photo_fixtures()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
