#!/usr/bin/env python3
"""Time PyTorch eager on the same EfficientNet variant, batch, resolution and machine as
`effnet bench`, in the same run, and print the ratio.

Optional tool: needs `torch` and `timm` (pip install torch timm). effnet itself needs no Python.

    python3 tools/compare_pytorch.py --model tf_efficientnet_b0 --batch 1 --threads 2
    python3 tools/compare_pytorch.py --model tf_efficientnet_b0 --batch 8 --threads 2 --json

PyTorch runs with `torch.set_num_threads(--threads)` under `torch.inference_mode()`, with
random weights (speed does not depend on their values); `--amp` uses float16 autocast on CUDA.
effnet runs through `cargo run --release -- bench ... --json` (or --effnet BINARY).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def time_pytorch(args):
    import torch
    import timm

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = timm.create_model(args.model, pretrained=False).eval().to(device)
    x = torch.randn(args.batch, 3, args.res, args.res, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    amp = torch.autocast("cuda", dtype=torch.float16) if args.amp else torch.autocast("cpu", enabled=False)
    times = []
    with torch.inference_mode(), amp:
        for i in range(args.warmup + args.iters):
            sync()
            t = time.perf_counter()
            model(x)
            sync()
            if i >= args.warmup:
                times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    median = statistics.median(times)
    return {
        "engine": f"pytorch {torch.__version__} eager" + (" amp" if args.amp else ""),
        "device": args.device,
        "threads": torch.get_num_threads(),
        "median_ms": median,
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "images_per_s": args.batch / (median / 1e3),
    }


def time_effnet(args):
    cmd = args.effnet.split() + [
        "bench", "--model", args.model, "--batch", str(args.batch), "--res", str(args.res),
        "--iters", str(args.iters), "--warmup", str(args.warmup), "--precision", args.precision, "--json",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="tf_efficientnet_b0")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--res", type=int, default=224)
    p.add_argument("--threads", type=int, default=2, help="PyTorch CPU threads")
    p.add_argument("--device", default="cpu", help="PyTorch device: cpu or cuda")
    p.add_argument("--amp", action="store_true", help="PyTorch float16 autocast (CUDA)")
    p.add_argument("--precision", default="f32", help="effnet storage precision")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--effnet", default="cargo run -q --release --", help="how to run effnet")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    ours = time_effnet(args)
    theirs = time_pytorch(args)
    result = {
        "model": args.model, "batch": args.batch, "res": args.res,
        "effnet": {k: ours[k] for k in ("adapter", "precision", "median_ms", "p90_ms", "images_per_s")},
        "pytorch": theirs,
        "latency_ratio_effnet_over_pytorch": ours["median_ms"] / theirs["median_ms"],
        "throughput_ratio_effnet_over_pytorch": ours["images_per_s"] / theirs["images_per_s"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.model} batch {args.batch} at {args.res}")
        print(f"  effnet  ({ours['adapter']}, {ours['precision']}): median {ours['median_ms']:.2f} ms, {ours['images_per_s']:.1f} images/s")
        print(f"  {theirs['engine']} ({theirs['device']}, {theirs['threads']} threads): median {theirs['median_ms']:.2f} ms, {theirs['images_per_s']:.1f} images/s")
        print(f"  latency ratio effnet/pytorch {result['latency_ratio_effnet_over_pytorch']:.2f}, "
              f"throughput ratio {result['throughput_ratio_effnet_over_pytorch']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
