#!/usr/bin/env python3
"""Time PyTorch on the same EfficientNet variant, batch, resolution and machine as
`effnet bench`, in the same run, and print the ratio.

Optional tool: needs `torch` and `timm` (pip install torch timm). effnet itself needs no Python.

    python3 tools/compare_pytorch.py --model tf_efficientnet_b0 --batch 1 --threads 2
    python3 tools/compare_pytorch.py --model tf_efficientnet_b0 --batch 8 --threads 2 --json
    python3 tools/compare_pytorch.py --device cuda --amp --compile --channels-last --batch 256

PyTorch runs with `torch.set_num_threads(--threads)` under `torch.inference_mode()`, with
random weights (speed does not depend on their values); `--amp` uses float16 autocast on CUDA
(on CPU it is not applied, and the label says so). Modes, each labelled in the output
(`engine`: eager or compile, NCHW or NHWC; the JSON's `pytorch` also holds `mode`, `layout`,
`amp` and `compile_s`):

  --channels-last  model and input in `torch.channels_last` memory format (NHWC)
  --compile        `torch.compile(model)` (default mode); the compile and the first pass,
                   which triggers it, are timed apart as `compile_s` and are neither warm-up
                   nor timed passes (--warmup and --iters passes follow them)

On CPU `--compile` needs a C++ compiler; when PyTorch fails (compile or otherwise), effnet's
numbers are still printed, the error is printed (JSON: `pytorch_error`, the ratios null) and
the exit status is 3. `--peak GFLOPS,GBPS` is passed to `effnet bench`, whose per-kernel-kind
roofline figures (`kinds`, `peak`) the JSON's `effnet` then carries.
effnet runs through `cargo run --release -- bench ... --json` (or --effnet BINARY).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

PYTORCH_FAILED = 3  # exit status when PyTorch could not be timed (effnet's numbers are printed)


def pytorch_label(args, version, amp):
    mode = "compile" if args.compile else "eager"
    return f"pytorch {version} {mode}" + (" amp" if amp else "") + (" NHWC" if args.channels_last else " NCHW")


def time_pytorch(args):
    import torch
    import timm

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    amp_on = args.amp and device.type == "cuda"
    info = {
        "engine": pytorch_label(args, torch.__version__, amp_on),
        "device": args.device,
        "threads": torch.get_num_threads(),
        "mode": "compile" if args.compile else "eager",
        "layout": "NHWC" if args.channels_last else "NCHW",
        "amp": amp_on,
        "compile_s": None,
    }
    try:
        model = timm.create_model(args.model, pretrained=False).eval().to(device)
        x = torch.randn(args.batch, 3, args.res, args.res, device=device)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        amp = torch.autocast("cuda", dtype=torch.float16) if amp_on else torch.autocast("cpu", enabled=False)
        times = []
        with torch.inference_mode(), amp:
            if args.compile:
                # Compiled lazily: the first pass compiles (and autotunes where the mode does).
                sync()
                t = time.perf_counter()
                model = torch.compile(model)
                model(x)
                sync()
                info["compile_s"] = time.perf_counter() - t
            for i in range(args.warmup + args.iters):
                sync()
                t = time.perf_counter()
                model(x)
                sync()
                if i >= args.warmup:
                    times.append((time.perf_counter() - t) * 1e3)
    except Exception as e:  # noqa: BLE001 -- reported, effnet's numbers still printed
        first = (str(e).strip().splitlines() or [""])[0][:300]
        info["error"] = f"{'compile' if args.compile else 'eager'}: {type(e).__name__}: {first}"
        return info
    times.sort()
    median = statistics.median(times)
    info.update({
        "median_ms": median,
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "images_per_s": args.batch / (median / 1e3),
    })
    return info


def time_effnet(args):
    cmd = args.effnet.split() + [
        "bench", "--model", args.model, "--batch", str(args.batch), "--res", str(args.res),
        "--iters", str(args.iters), "--warmup", str(args.warmup), "--precision", args.precision, "--json",
    ]
    if args.peak:
        cmd += ["--peak", args.peak]
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
    p.add_argument("--compile", action="store_true", help="PyTorch torch.compile, default mode (compile time reported apart)")
    p.add_argument("--channels-last", action="store_true", help="PyTorch model and input in channels_last (NHWC)")
    p.add_argument("--precision", default="f32", help="effnet storage precision")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--peak", metavar="GFLOPS,GBPS", help="passed to effnet bench: per-kind roofline fractions")
    p.add_argument("--effnet", default="cargo run -q --release --", help="how to run effnet")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    ours = time_effnet(args)
    theirs = time_pytorch(args)
    error = theirs.get("error")
    result = {
        "model": args.model, "batch": args.batch, "res": args.res,
        "effnet": {k: ours[k] for k in ("adapter", "precision", "median_ms", "p90_ms", "images_per_s", "gpu_ms", "peak", "kinds")
                   if k in ours},
        "pytorch": theirs,
        "latency_ratio_effnet_over_pytorch": None if error else ours["median_ms"] / theirs["median_ms"],
        "throughput_ratio_effnet_over_pytorch": None if error else ours["images_per_s"] / theirs["images_per_s"],
    }
    if error:
        result["pytorch_error"] = error
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.model} batch {args.batch} at {args.res}")
        print(f"  effnet  ({ours['adapter']}, {ours['precision']}): median {ours['median_ms']:.2f} ms, {ours['images_per_s']:.1f} images/s")
        where = f"{theirs['engine']} ({theirs['device']}, {theirs['threads']} threads)"
        if error:
            print(f"  {where}: FAILED: {error}")
            return PYTORCH_FAILED
        compiled = f" (compile and first pass {theirs['compile_s']:.1f} s, not timed)" if theirs["compile_s"] is not None else ""
        print(f"  {where}: median {theirs['median_ms']:.2f} ms, {theirs['images_per_s']:.1f} images/s{compiled}")
        print(f"  latency ratio effnet/pytorch {result['latency_ratio_effnet_over_pytorch']:.2f}, "
              f"throughput ratio {result['throughput_ratio_effnet_over_pytorch']:.2f}")
    return PYTORCH_FAILED if error else 0


if __name__ == "__main__":
    sys.exit(main())
