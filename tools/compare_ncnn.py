#!/usr/bin/env python3
"""Time ncnn's Vulkan backend on the same EfficientNet variant, resolution, batch, precision
and Vulkan adapter as `effnet bench`, in the same run, and print the ratio.

Optional tool: needs `ncnn` and `pnnx` (pip install ncnn pnnx), plus `torch` and `timm` the
first time a model is converted. effnet itself needs no Python.

    python3 tools/compare_ncnn.py --model tf_efficientnet_b0 --batch 1
    python3 tools/compare_ncnn.py --model tf_efficientnet_b0 --batch 8 --iters 5 --rounds 3 --json
    python3 tools/compare_ncnn.py --precision f16 --effnet target/release/effnet

The timm model is built with random weights (speed does not depend on their values), traced with
torch.jit.trace and converted by the pnnx CLI to ncnn .param/.bin: `fp16=0` (f32 weights) for
--precision f32, fp16 weights for f16. Converted models are cached under --cache-dir (default
$EFFNET_NCNN_CACHE, else ~/.cache/effnet/ncnn), keyed by model, resolution and weight precision
(ncnn has no batch dimension, so one conversion at batch 1 serves every batch).

ncnn runs with use_vulkan_compute=True. f32 turns off ncnn's fp16/bf16 storage, packing and
arithmetic (ncnn turns fp16 on by default); f16 turns on fp16 storage and packing with f32
arithmetic, matching effnet's f16 (storage f16, arithmetic f32); --ncnn-fp16-arithmetic also
turns on fp16 arithmetic. ncnn turns off whatever the device does not support.
One timed pass runs `batch` extractions (a new Extractor for each image), because ncnn has no
batch dimension; each extraction uploads the image and downloads the logits (the Python binding
has no GPU-resident input), so effnet's `with_transfers_median_ms` is the like-for-like figure
when `effnet bench` reports it; the ratio uses it then and says so.

effnet runs through `cargo run --release -- bench ... --json` (or --effnet BINARY); the
environment (EFFNET_KERNELS, EFFNET_ADAPTER, ...) passes through. --rounds N alternates
effnet, ncnn, effnet, ncnn, ... and reports the median of the per-round medians.
OMP_WAIT_POLICY=PASSIVE is set before ncnn is imported, so its idle OpenMP threads do not spin
on the cores a CPU Vulkan driver (lavapipe) needs.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

INSTALL_HINT = "pip install ncnn pnnx"


def import_ncnn():
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import ncnn  # noqa: F401
    except ImportError as e:
        print(f"compare_ncnn: the `ncnn` Python package is missing ({e}); install it with: {INSTALL_HINT}",
              file=sys.stderr)
        sys.exit(2)
    return ncnn


def cache_paths(args):
    weights = "fp16" if args.precision == "f16" else "fp32"
    key = f"{args.model}-{args.res}-{weights}"
    d = os.path.join(args.cache_dir, key)
    return d, os.path.join(d, "model.ncnn.param"), os.path.join(d, "model.ncnn.bin")


def convert(args):
    """Returns (param, bin, converted_now): the cached ncnn model, converted on a miss."""
    d, param, binf = cache_paths(args)
    if os.path.exists(param) and os.path.exists(binf):
        return param, binf, False
    try:
        import pnnx
    except ImportError as e:
        print(f"compare_ncnn: the `pnnx` Python package is missing ({e}) and {d} holds no converted model; "
              f"install it with: {INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    try:
        import torch
        import timm
    except ImportError as e:
        print(f"compare_ncnn: converting a model needs torch and timm ({e}); install them with: "
              "pip install torch timm", file=sys.stderr)
        sys.exit(2)
    os.makedirs(d, exist_ok=True)
    work = os.path.join(d, f"work-{os.getpid()}")  # concurrent conversions do not collide
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    model = timm.create_model(args.model, pretrained=False).eval()
    x = torch.randn(1, 3, args.res, args.res)
    with torch.no_grad():
        traced = torch.jit.trace(model, x, check_trace=False)
    pt = os.path.join(work, "model.pt")
    traced.save(pt)
    # The pnnx package ships its CLI as pnnx.EXEC_PATH; pnnx.export() wraps the same call but also
    # imports the generated Python model afterwards, which we do not need.
    tmp = f".tmp{os.getpid()}"
    cmd = [pnnx.EXEC_PATH, pt, f"inputshape=[1,3,{args.res},{args.res}]",
           f"ncnnparam={param}{tmp}", f"ncnnbin={binf}{tmp}", "device=cpu"]
    if args.precision != "f16":
        cmd.append("fp16=0")
    r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(param + tmp):
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        print(f"compare_ncnn: pnnx failed to convert {args.model} (exit {r.returncode}): {' '.join(cmd)}",
              file=sys.stderr)
        sys.exit(1)
    os.replace(binf + tmp, binf)  # the .bin first: the .param's presence marks a complete model
    os.replace(param + tmp, param)
    shutil.rmtree(work, ignore_errors=True)
    return param, binf, True


def describe_gpus(ncnn):
    gpus = []
    for i in range(ncnn.get_gpu_count()):
        g = ncnn.get_gpu_info(i)
        v = g.api_version()
        gpus.append({"index": i, "name": g.device_name(), "type": g.type(), "vendor_id": g.vendor_id(),
                     "device_id": g.device_id(), "driver_version": g.driver_version(),
                     "vulkan_api": "{}.{}.{}".format(v >> 22, (v >> 12) & 0x3FF, v & 0xFFF)})
    return gpus


class NcnnRunner:
    def __init__(self, ncnn, args, param, binf):
        import numpy as np

        self.ncnn = ncnn
        self.args = args
        self.gpus = describe_gpus(ncnn)
        if not self.gpus:
            print("compare_ncnn: ncnn found no Vulkan device (get_gpu_count() == 0)", file=sys.stderr)
            sys.exit(2)
        default = ncnn.get_default_gpu_index()
        self.index = default if args.gpu_index is None else args.gpu_index
        if not 0 <= self.index < len(self.gpus):
            print(f"compare_ncnn: --gpu-index {self.index} out of range; ncnn sees {len(self.gpus)} device(s): "
                  + ", ".join(f"{g['index']}: {g['name']}" for g in self.gpus), file=sys.stderr)
            sys.exit(2)
        self.default_index = default
        net = ncnn.Net()
        opt = net.opt
        opt.use_vulkan_compute = True
        f16 = args.precision == "f16"
        opt.use_fp16_storage = f16
        opt.use_fp16_packed = f16
        opt.use_fp16_arithmetic = f16 and args.ncnn_fp16_arithmetic
        opt.use_bf16_storage = False
        if hasattr(opt, "use_bf16_packed"):
            opt.use_bf16_packed = False
        if args.threads:
            opt.num_threads = args.threads
        self.requested = {"use_fp16_storage": opt.use_fp16_storage, "use_fp16_packed": opt.use_fp16_packed,
                          "use_fp16_arithmetic": opt.use_fp16_arithmetic, "num_threads": opt.num_threads}
        net.set_vulkan_device(self.index)
        if net.load_param(param) != 0 or net.load_model(binf) != 0:
            print(f"compare_ncnn: ncnn could not load {param}", file=sys.stderr)
            sys.exit(1)
        self.net = net
        self.in_name = net.input_names()[0]
        self.out_name = net.output_names()[0]
        rng = np.random.default_rng(0)
        self.arrays = [rng.random((3, args.res, args.res), dtype=np.float32) for _ in range(args.batch)]
        self.mats = [ncnn.Mat(a).clone() for a in self.arrays]

    def one_pass(self):
        for m in self.mats:
            with self.net.create_extractor() as ex:
                ex.input(self.in_name, m)
                ret, out = ex.extract(self.out_name)
            if ret != 0:
                raise RuntimeError(f"ncnn extract returned {ret}")
        return out

    def time(self, iters, warmup):
        t0 = time.perf_counter()
        for _ in range(warmup):
            self.one_pass()
        warm_s = time.perf_counter() - t0
        times = []
        for _ in range(iters):
            t = time.perf_counter()
            self.one_pass()
            times.append((time.perf_counter() - t) * 1e3)
        return times, warm_s

    def close(self):
        self.net.clear()
        del self.net
        self.ncnn.destroy_gpu_instance()


def run_effnet(args):
    cmd = args.effnet.split() + [
        "bench", "--model", args.model, "--batch", str(args.batch), "--res", str(args.res),
        "--iters", str(args.iters), "--warmup", str(args.warmup), "--precision", args.precision, "--json",
    ]
    if args.effnet_device is not None:
        cmd += ["--device", str(args.effnet_device)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-4000:])
        print(f"compare_ncnn: effnet failed (exit {r.returncode}): {' '.join(cmd)}", file=sys.stderr)
        sys.exit(1)
    return json.loads(r.stdout.strip().splitlines()[-1])


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="tf_efficientnet_b0", help="timm model name (effnet and ncnn)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--res", type=int, default=224)
    p.add_argument("--precision", default="f32", choices=["f32", "f16"],
                   help="f32: f32 weights and ncnn fp16 off; f16: fp16 weights and ncnn fp16 storage")
    p.add_argument("--ncnn-fp16-arithmetic", action="store_true",
                   help="with --precision f16, also turn on ncnn's fp16 arithmetic (effnet computes in f32)")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1,
                   help="alternate effnet and ncnn this many times; report the median of the round medians")
    p.add_argument("--gpu-index", type=int, default=None,
                   help="ncnn's Vulkan device index (default: ncnn.get_default_gpu_index())")
    p.add_argument("--effnet-device", type=int, default=None,
                   help="effnet's adapter number (`effnet devices`), passed as bench --device")
    p.add_argument("--threads", type=int, default=0, help="ncnn CPU threads (default: ncnn's own)")
    p.add_argument("--cache-dir", default=os.environ.get("EFFNET_NCNN_CACHE")
                   or os.path.join(os.path.expanduser("~"), ".cache", "effnet", "ncnn"))
    p.add_argument("--effnet", default="cargo run -q --release --", help="how to run effnet")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    # pnnx runs in its own working directory: a relative cache path would point elsewhere.
    args.cache_dir = os.path.abspath(args.cache_dir)
    if args.batch < 1 or args.iters < 1 or args.rounds < 1 or args.res < 1:
        p.error("--batch, --res, --iters and --rounds must be at least 1")

    ncnn = import_ncnn()
    t = time.perf_counter()
    param, binf, converted = convert(args)
    convert_s = time.perf_counter() - t
    runner = NcnnRunner(ncnn, args, param, binf)
    gpu = runner.gpus[runner.index]
    if not args.json:
        print(f"ncnn {getattr(ncnn, '__version__', '?')}: Vulkan device {runner.index} of {len(runner.gpus)} "
              f"'{gpu['name']}' (default index {runner.default_index}, Vulkan {gpu['vulkan_api']})",
              flush=True)
        print(f"ncnn model: {param} ({'converted now' if converted else 'cached'}"
              f"{f', {convert_s:.1f} s' if converted else ''})", flush=True)

    rounds = []
    first_ncnn_warm_s = None
    for i in range(args.rounds):
        ours = run_effnet(args)
        times, warm_s = runner.time(args.iters, args.warmup)
        if first_ncnn_warm_s is None:
            first_ncnn_warm_s = warm_s
        times.sort()
        rounds.append((ours, times))
        if not args.json and args.rounds > 1:
            print(f"  round {i + 1}: effnet {ours.get('median_ms', float('nan')):.2f} ms"
                  + (f" ({ours['with_transfers_median_ms']:.2f} ms with transfers)"
                     if ours.get("with_transfers_median_ms") is not None else "")
                  + f", ncnn {statistics.median(times):.2f} ms", flush=True)
    runner.close()

    last = rounds[-1][0]
    eff_median = med([o.get("median_ms") for o, _ in rounds])
    eff_xfer = med([o.get("with_transfers_median_ms") for o, _ in rounds])
    eff_p90 = med([o.get("p90_ms") for o, _ in rounds])
    nc_median = med([statistics.median(t) for _, t in rounds])
    nc_p90 = med([t[int(0.9 * (len(t) - 1))] for _, t in rounds])
    eff_cmp = eff_xfer if eff_xfer is not None else eff_median
    cmp_field = "with_transfers_median_ms" if eff_xfer is not None else "median_ms"

    engine = f"ncnn {getattr(ncnn, '__version__', '?')} vulkan"
    result = {
        "model": args.model, "batch": args.batch, "res": args.res, "precision": args.precision,
        "rounds": args.rounds, "iters": args.iters, "warmup": args.warmup,
        "effnet": {
            "adapter": last.get("adapter"),
            "precision": last.get("precision"),
            "kernels": last.get("kernels"),
            "kernels_env": os.environ.get("EFFNET_KERNELS"),
            "median_ms": eff_median,
            "with_transfers_median_ms": eff_xfer,
            "p90_ms": eff_p90,
            "images_per_s": args.batch / (eff_cmp / 1e3) if eff_cmp else None,
            "round_median_ms": [o.get("median_ms") for o, _ in rounds],
            "round_with_transfers_median_ms": [o.get("with_transfers_median_ms") for o, _ in rounds],
        },
        "ncnn": {
            "engine": engine,
            "device_index": runner.index,
            "default_device_index": runner.default_index,
            "device": gpu,
            "devices": runner.gpus,
            "options_requested": runner.requested,
            "model_file": param,
            "converted_now": converted,
            "batch_mode": f"{args.batch} sequential extraction(s) per pass (ncnn has no batch dimension)",
            "includes_transfers": True,
            "first_warmup_s": first_ncnn_warm_s,
            "median_ms": nc_median,
            "p90_ms": nc_p90,
            "images_per_s": args.batch / (nc_median / 1e3),
            "round_median_ms": [statistics.median(t) for _, t in rounds],
        },
        "effnet_field_compared": cmp_field,
        "latency_ratio_effnet_over_ncnn": eff_cmp / nc_median,
        "throughput_ratio_effnet_over_ncnn": nc_median / eff_cmp,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.model} batch {args.batch} at {args.res}, {args.precision}"
              + (f", median of {args.rounds} alternating rounds" if args.rounds > 1 else ""))
        line = f"  effnet  ({last.get('adapter')}, {last.get('precision')}"
        if last.get("kernels") is not None:
            line += f", {last['kernels']} kernels"
        elif os.environ.get("EFFNET_KERNELS"):
            line += f", EFFNET_KERNELS={os.environ['EFFNET_KERNELS']}"
        line += f"): median {eff_median:.2f} ms"
        if eff_xfer is not None:
            line += f" ({eff_xfer:.2f} ms with transfers)"
        line += f", {result['effnet']['images_per_s']:.1f} images/s"
        print(line)
        print(f"  {engine} ({gpu['name']}, fp16 storage {'on' if runner.requested['use_fp16_storage'] else 'off'}"
              f", fp16 arithmetic {'on' if runner.requested['use_fp16_arithmetic'] else 'off'}): "
              f"median {nc_median:.2f} ms, {result['ncnn']['images_per_s']:.1f} images/s"
              + (f"  [{args.batch} extractions per pass: ncnn has no batch dimension]" if args.batch > 1 else ""))
        print(f"  effnet {cmp_field} vs ncnn (upload + run + download): latency ratio effnet/ncnn "
              f"{result['latency_ratio_effnet_over_ncnn']:.2f}, throughput ratio effnet/ncnn "
              f"{result['throughput_ratio_effnet_over_ncnn']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
