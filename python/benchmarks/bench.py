"""Benchmarks of the Python package (not tests: nothing here asserts a time).

    python python/benchmarks/bench.py eval [--rounds 2]   # Python vs `effnet eval`, same adapter
    python python/benchmarks/bench.py ray [--limit 200]   # Ray Data pipeline vs a plain loop

Both use ../shared/data/imagenet-sample (1,000 ImageNet photos, one per class, the class in
the file name) and the bundled Lite0 at 224, batch 8. `eval` runs the command line and the
Python session alternately, `--rounds` times each, and prints each run's images/s (start-up
excluded on both sides: the CLI reports it apart, the Python session is made before the
clock starts) and top-1. `ray` times a pipeline of 2 actors against one session in a loop.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import effnet

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO.parent / "shared" / "data" / "imagenet-sample"


def photos(limit=None):
    files = sorted(p for p in SAMPLE.iterdir() if p.suffix.lower() in (".jpeg", ".jpg"))
    return files[:limit] if limit else files


def image_folder(files, root):
    """`effnet eval` reads DIR/<wnid>/<file>: a tree of links to the flat sample."""
    for f in files:
        d = root / f.name.split("_")[0]
        d.mkdir(exist_ok=True)
        (d / f.name).symlink_to(f)


def cli_eval(root, batch):
    exe = os.environ.get("EFFNET_CLI", str(REPO / "target" / "release" / "effnet"))
    out = subprocess.run([exe, "eval", str(root), "-b", str(batch), "--json"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["images_per_s"], r["top1"]


def python_eval(session, files):
    paths = [str(f) for f in files]
    started = time.perf_counter()
    logits = session.logits(paths)
    seconds = time.perf_counter() - started
    truth = [f.name.split("_")[0] for f in files]
    index = {w: i for i, w in enumerate(_wnids())}
    top1 = np.mean(logits.argmax(1) == np.array([index[w] for w in truth]))
    return len(paths) / seconds, float(top1)


def _wnids():
    """ImageNet-1k's WordNet ids in class order (the sample's files sorted by name)."""
    return [f.name.split("_")[0] for f in photos()]


def bench_eval(a):
    files = photos(a.limit)
    model = effnet.Engine().load()
    session = model.session(batch=a.batch)
    print(f"adapter: {model.device}; {len(files)} photos, batch {a.batch}, Lite0 at 224")
    with tempfile.TemporaryDirectory() as tmp:
        image_folder(files, Path(tmp))
        for r in range(a.rounds):
            cli, cli_top1 = cli_eval(tmp, a.batch)
            py, py_top1 = python_eval(session, files)
            print(f"round {r + 1}: cli {cli:.2f} images/s (top-1 {cli_top1:.3f}), "
                  f"python {py:.2f} images/s (top-1 {py_top1:.3f}), python/cli {py / cli:.3f}")


def bench_ray(a):
    import ray
    import effnet.ray

    files = [str(f) for f in photos(a.limit)]
    session = effnet.Engine().load().session(batch=a.batch, output="embeddings")
    started = time.perf_counter()
    plain = session.embed(files)
    loop = len(files) / (time.perf_counter() - started)
    print(f"plain session: {loop:.2f} images/s ({len(files)} photos, batch {a.batch})")
    del session
    ray.init(num_cpus=2, num_gpus=a.actors, object_store_memory=200 * 1024**2,
             include_dashboard=False,
             runtime_env={"env_vars": {"EFFNET_ALLOW_CPU_ADAPTER": "1"}})
    ray.data.DataContext.get_current().enable_progress_bars = False
    started = time.perf_counter()
    ds = ray.data.read_binary_files(files, include_paths=True).map_batches(
        effnet.ray.Predictor, fn_constructor_kwargs={"batch": a.batch},
        compute=ray.data.ActorPoolStrategy(size=a.actors), batch_size=a.batch,
        batch_format="numpy", **effnet.ray.Predictor.remote_args(num_gpus=1, num_cpus=0.5))
    rows = ds.take_all()
    seconds = time.perf_counter() - started
    got = {r["path"]: r["embedding"] for r in rows}
    worst = max(float(np.abs(got[f] - e).max()) for f, e in zip(files, plain))
    print(f"ray, {a.actors} actors: {len(rows) / seconds:.2f} images/s including actor "
          f"start-up ({seconds:.1f} s); largest difference from the plain session {worst:.2e}")


def main():
    p = argparse.ArgumentParser(description="effnet Python benchmarks")
    p.add_argument("what", choices=["eval", "ray"])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--actors", type=int, default=2)
    a = p.parse_args()
    (bench_eval if a.what == "eval" else bench_ray)(a)


if __name__ == "__main__":
    sys.exit(main())
