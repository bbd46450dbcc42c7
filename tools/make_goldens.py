#!/usr/bin/env python3
"""Golden files for fine-tuned classifier heads (other class counts, and headless models).

Writes, in exactly the format of `../shared/golden` (see `../shared/golden/README.md`: the
fields, the fnv1a64/splitmix64 weight and input rule, the stage names and samples), plus a field
`num_classes`:

    tests/data/golden/timm-tf_efficientnet_lite0-nc10-192x160-b2.json   num_classes = 10
    tests/data/golden/timm-tf_efficientnet_lite0-nc0-192x160-b1.json    num_classes = 0

For `num_classes = 0` timm's model has no classifier and its output, written as `logits`, is
the pooled head features, `[N, 1280]` for Lite0.

Before writing, the script recomputes the shared `timm-tf_efficientnet_lite0-224x224-b1.json`
the same way and prints how far it is from the shared file (logits relative L2 error, which
must be within 1e-6, and the stage statistics and samples); it does not write that file.

Optional tool: needs torch and timm (pip install torch timm; the shared files were made with
torch 2.15, timm 1.0.31, float32 on CPU). effnet never runs it at build or test time.

    python3 tools/make_goldens.py                  # check, then write the two files
    python3 tools/make_goldens.py --check-only     # only the check against the shared file
    python3 tools/make_goldens.py --out-dir DIR    # write them elsewhere
"""
import argparse
import json
import math
import os
import sys

import numpy as np

MASK = (1 << 64) - 1
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (model, num_classes, H, W, batch) of the files written to tests/data/golden.
JOBS = [
    ("tf_efficientnet_lite0", 10, 192, 160, 2),
    ("tf_efficientnet_lite0", 0, 192, 160, 1),
]
# A shared file that this script must reproduce (num_classes None: timm's default 1000, and no
# `num_classes` field, as in the shared files).
CHECK = ("tf_efficientnet_lite0", None, 224, 224, 1)


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(name: str, n: int) -> np.ndarray:
    """u_i = (splitmix64(fnv1a64(name) + i) >> 11) * 2^-53 for i in 0..n, in float64."""
    with np.errstate(over="ignore"):
        x = np.uint64(fnv1a64(name.encode("utf-8"))) + np.arange(n, dtype=np.uint64)
        x = x + np.uint64(0x9E3779B97F4A7C15)
        z = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def rule_values(name: str, shape) -> np.ndarray:
    """The rule's value of every element of tensor `name`, float64 then rounded to float32."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform(name, n)
    v = 2.0 * u - 1.0
    if name.endswith("running_var"):
        x = 0.75 + 0.5 * u
    elif name.endswith("running_mean"):
        x = 0.1 * v
    elif len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        x = v * math.sqrt(3.0 / fan_in)
    elif name.endswith("weight"):
        x = 1.0 + 0.2 * v
    else:
        x = 0.1 * v
    return x.astype(np.float32).reshape(shape)


def fill_by_rule(model):
    import torch

    state = model.state_dict()
    new = {}
    for key, t in state.items():
        if key.endswith("num_batches_tracked"):
            new[key] = t
            continue
        new[key] = torch.from_numpy(rule_values(key, tuple(t.shape))).to(t.dtype)
    model.load_state_dict(new)


def g7(x: float) -> float:
    """A value as the shared files print it: 7 significant digits."""
    return float(f"{x:.7g}")


def channels(c: int):
    """The four sampled channels: first, a third, two thirds, last."""
    return [0, c // 3, 2 * c // 3, c - 1]


def stage_entry(name: str, t) -> dict:
    n, c, h, w = t.shape
    d = t.detach().double()
    a = d.numpy()
    samples = []
    for b in range(n):
        for ch in channels(c):
            for y, x in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (h // 2, w // 2)]:
                samples.append([b, ch, y, x, g7(float(a[b, ch, y, x]))])
    return {
        "name": name,
        "shape": [n, c, h, w],
        # Statistics in float64 by torch, as the shared files have them (bit for bit).
        "mean": d.mean().item(),
        "rms": d.pow(2).mean().sqrt().item(),
        "samples": samples,
    }


def golden(model_name: str, num_classes, h: int, w: int, batch: int) -> dict:
    import timm
    import torch

    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    model = timm.create_model(model_name, pretrained=False, **kwargs).eval()
    fill_by_rule(model)

    outputs = {}

    def hook(name):
        def f(_module, _inputs, out):
            outputs[name] = out

        return f

    # Stage names of the README: stem (conv, BN, activation), each block stage, head (1x1
    # conv, BN, activation); timm's BatchNormAct2d applies the activation.
    model.bn1.register_forward_hook(hook("stem"))
    for i, stage in enumerate(model.blocks):
        stage.register_forward_hook(hook(f"blocks.{i}"))
    model.bn2.register_forward_hook(hook("head"))

    shape = (batch, 3, h, w)
    x = torch.from_numpy((2.0 * uniform("input", int(np.prod(shape))) - 1.0).astype(np.float32))
    x = x.reshape(shape)
    with torch.no_grad():
        logits = model(x)
    names = ["stem"] + [f"blocks.{i}" for i in range(len(model.blocks))] + ["head"]
    lgd = logits.detach().double()
    lg = lgd.numpy()
    out = {
        "source": "timm",
        "model": model_name,
        "input_shape": list(shape),
        "input_layout": "NCHW",
        "params": sum(p.numel() for p in model.parameters()),
    }
    if num_classes is not None:
        out["num_classes"] = num_classes
    out["torch"] = torch.__version__
    out["stages"] = [stage_entry(n, outputs[n]) for n in names]
    out["logits_stats"] = {
        "shape": list(lg.shape),
        "mean": lgd.mean().item(),
        "rms": lgd.pow(2).mean().sqrt().item(),
    }
    out["logits"] = [[g7(float(v)) for v in row] for row in lg]
    return out


def file_name(model_name, num_classes, h, w, batch):
    nc = "" if num_classes is None else f"-nc{num_classes}"
    return f"timm-{model_name}{nc}-{h}x{w}-b{batch}.json"


def check_against_shared(shared_dir: str) -> bool:
    path = os.path.join(shared_dir, file_name(*CHECK))
    with open(path) as f:
        ref = json.load(f)
    ours = golden(*CHECK)
    a = np.array(ours["logits"], dtype=np.float64)
    b = np.array(ref["logits"], dtype=np.float64)
    rel = float(np.linalg.norm(a - b) / np.linalg.norm(b)) if a.shape == b.shape else math.inf
    worst, stats = 0.0, 0.0
    same_layout = [s["name"] for s in ours["stages"]] == [s["name"] for s in ref["stages"]]
    for s, r in zip(ours["stages"], ref["stages"]):
        same_layout &= s["shape"] == r["shape"] and [x[:4] for x in s["samples"]] == [
            x[:4] for x in r["samples"]
        ]
        worst = max([worst] + [abs(p[4] - q[4]) / r["rms"] for p, q in zip(s["samples"], r["samples"])])
        stats = max(stats, abs(s["mean"] - r["mean"]) / r["rms"], abs(s["rms"] - r["rms"]) / r["rms"])
    same_fields = list(ours) == list(ref) and all(
        ours[k] == ref[k] for k in ("source", "model", "input_shape", "input_layout", "params")
    )
    identical = json.dumps(ours) == json.dumps(ref)
    ok = rel <= 1e-6 and same_layout and same_fields and worst <= 1e-6
    print(
        f"{'PASS' if ok else 'FAIL'} check {path}: logits rel err {rel:.2e} (tolerance 1e-6), "
        f"worst sample {worst:.2e} x rms, stage mean/rms {stats:.2e} x rms, "
        f"same fields/stages/sample positions: {same_layout and same_fields}, "
        f"byte-identical JSON: {identical}"
    )
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=os.path.join(REPO, "..", "shared", "golden"))
    p.add_argument("--out-dir", default=os.path.join(REPO, "tests", "data", "golden"))
    p.add_argument("--check-only", action="store_true")
    args = p.parse_args()

    if not check_against_shared(args.shared):
        sys.exit("the recomputed shared golden differs: not writing anything")
    if args.check_only:
        return
    os.makedirs(args.out_dir, exist_ok=True)
    for job in JOBS:
        path = os.path.join(args.out_dir, file_name(*job))
        g = golden(*job)
        with open(path, "w") as f:
            # One line, no trailing newline, like the shared files.
            f.write(json.dumps(g))
        print(f"wrote {path}: params {g['params']}, logits {g['logits_stats']['shape']}")


if __name__ == "__main__":
    main()
