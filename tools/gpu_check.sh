#!/usr/bin/env bash
# The GPU check a session runs when it is lent a GPU machine (see the device tool's README
# for carrying the Vulkan loader): one script, under 8 minutes, that prints a markdown table
# for BENCHMARKS.md. Steps: the adapter (vulkaninfo --summary, effnet devices, the roofline
# peak); effnet verify on the shared goldens, f32 and f16, in both kernel families; effnet tune
# (both families' candidates listed); effnet bench on
# B0 224 at batch 1, 256, 8, 64 and V2-S 384 at batch 1 and 32 (the issue's headline settings
# first), f32 and f16, GPU family and CPU family, each beside PyTorch eager (NCHW) on the same
# device in the same run (tools/compare_pytorch.py: fp32 for f32 rows, --amp for f16 rows)
# where torch and timm are installed; after the f16 rows of B0 224 batch 1 and 256 and V2-S 384
# batch 1, PyTorch's other modes beside the same effnet row: eager AMP channels_last (NHWC),
# torch.compile AMP NHWC and torch.compile AMP NCHW (default mode; each compile and its first
# pass timed apart, "compile s", not in the row's times but within the script's deadline); the
# per-kind roofline fractions of B0 224 batch 256 f16 in both families (effnet bench --peak);
# the slowest layers of that row; and ncnn's Vulkan backend (tools/compare_ncnn.py) on the B0
# rows at batch 1 and 8 where ncnn and pnnx are.
#
#   bash tools/gpu_check.sh            # on the lent machine
#   bash tools/gpu_check.sh --local    # tiny settings on any adapter (lavapipe): tests/gpu_check.rs
#
# EFFNET names the effnet binary (default target/release/effnet, built when missing); SHARED the
# shared data folder (default ../shared); GPU_CHECK_BUDGET_S the seconds the speed rows, PyTorch's
# modes included, may run to (default 460; rows past it are skipped, and a compile row needs 60 s
# left to start); GPU_PEAK=GFLOPS,GBPS the peak passed to effnet bench --peak (default: from
# nvidia-smi's name, the f16 non-tensor-core peak and the HBM bandwidth: H100 SXM 133800,3350,
# H100 PCIe 102400,2000, H200 133800,4800; none elsewhere, and the roofline fractions are then
# n/a); GPU_CHECK_COMPILE=0 leaves out the torch.compile rows; OUT, when set, receives the log,
# the table and each speed row's JSON. --local runs PyTorch on the CPU, fp32, with one setting's
# modes: eager NHWC and one torch.compile row (which needs a C++ compiler; a failed compile is
# reported in its row, not an error of the script).
set -uo pipefail
cd "$(dirname "$0")/.."

local_mode=0
[ "${1:-}" = "--local" ] && local_mode=1
effnet="${EFFNET:-target/release/effnet}"
if [ ! -x "$effnet" ]; then
    cargo build --release --quiet || exit 1
fi
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
table="$out/gpu_check.md"
log="$out/log"
deadline=$((SECONDS + ${GPU_CHECK_BUDGET_S:-460})) # 8 minutes with a margin for the table
shared="${SHARED:-../shared}"
[ "${GPU_CHECK_COMPILE:-1}" = 0 ] && compile_rows=0 || compile_rows=1

# The roofline peak (f16 without tensor cores, HBM): GPU_PEAK, else from the GPU's name.
peak="${GPU_PEAK:-}" peak_from="GPU_PEAK"
if [ -z "$peak" ] && command -v nvidia-smi >/dev/null; then
    gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
    peak_from="nvidia-smi: $gpu_name"
    case "$gpu_name" in
        *H200*) peak=133800,4800 ;;
        *H100*PCIe*) peak=102400,2000 ;;
        *H100*) peak=133800,3350 ;;
    esac
fi
peak_args=()
[ -n "$peak" ] && peak_args=(--peak "$peak")

if [ "$local_mode" = 1 ]; then
    goldens=("$shared"/golden/timm-tf_efficientnet_lite0-224x224-b1.json)
    rows=("tf_efficientnet_b0 64 1" "tf_efficientnet_b0 64 2" "tf_efficientnet_lite0 48 1")
    profile_row="tf_efficientnet_lite0 48 1" ncnn_rows=("${rows[@]:0:2}")
    mode_rows=("tf_efficientnet_b0 64 1") torch_modes=("eager NHWC" "compile NHWC")
    iters=2 warmup=1 torch_device=cpu tune_args=(--runs 1 --dry-run)
else
    goldens=("$shared"/golden/*.json)
    # Most wanted first (the issue's headline figures): rows past the time budget are skipped.
    rows=("tf_efficientnet_b0 224 1" "tf_efficientnet_b0 224 256" "tf_efficientnetv2_s 384 1"
        "tf_efficientnet_b0 224 8" "tf_efficientnet_b0 224 64" "tf_efficientnetv2_s 384 32")
    profile_row="tf_efficientnet_b0 224 256" ncnn_rows=("tf_efficientnet_b0 224 1" "tf_efficientnet_b0 224 8")
    # PyTorch's other modes, after the f16 row of each of these settings.
    mode_rows=("tf_efficientnet_b0 224 1" "tf_efficientnet_b0 224 256" "tf_efficientnetv2_s 384 1")
    torch_modes=("eager NHWC" "compile NHWC" "compile NCHW")
    iters=20 warmup=3 torch_device=cuda tune_args=(--runs 5)
fi

section() { printf '\n## %s\n\n' "$1" | tee -a "$table"; }
json_field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print($1)"; }
cells_of() { json_field '" | ".join(f"{x:.2f}" for x in ('"$1"'))' 2>>"$log"; }

: >"$table"
section "Adapter"
{ command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>/dev/null | sed -n '/Devices:/,$p' | head -20; } | tee -a "$table"
"$effnet" devices 2>&1 | tee -a "$table"
if [ -n "$peak" ]; then
    echo "- roofline peak: ${peak%,*} GFLOP/s, ${peak#*,} GB/s ($peak_from)" | tee -a "$table"
else
    echo "- roofline peak: none (no H100 or H200 named by nvidia-smi; GPU_PEAK=GFLOPS,GBPS sets one)" | tee -a "$table"
fi

section "Goldens"
for family in gpu cpu; do
    for precision in f32 f16; do
        passed=$(EFFNET_KERNELS=$family timeout 120 "$effnet" verify "${goldens[@]}" --precision "$precision" 2>>"$log" | grep -c '^PASS')
        echo "- $family kernels, $precision: $passed of ${#goldens[@]} golden files PASS" | tee -a "$table"
    done
done

section "Tuning (both families)"
# The CPU family's kernel shapes, then the compute units the GPU family sizes its grids for,
# then (native f16) the GPU family's f16 arithmetic against f32; the speed rows below run with what it picks (cached, except in --local mode).
tuned=$(timeout 150 "$effnet" tune "${tune_args[@]}" --json 2>>"$log")
echo "$tuned" | json_field 'd["best"]' | sed 's/^/- best: /' | tee -a "$table"
candidates='"\n".join("- %s family %s%s, pointwise_co %s, subgroups %s, gpu_units %s, gpu_subgroup_sums %s, gpu_f16_math %s, blocks fused %s, convs fused %s: %s" % (c["family"], c["precision"], " kernel " + c["kernel"] if c.get("kernel") else "", c["pointwise_co"], c["subgroups"], c["gpu_units"], c["gpu_subgroup_sums"], c["gpu_f16_math"], c["gpu_fused_blocks"], c["gpu_fused_convs"], "skipped: " + c["skipped"] if c.get("skipped") else "%.2f ms%s" % (c["ms"], "" if c["correct"] else ", WRONG")) for c in d["candidates"])'
echo "$tuned" | json_field "$candidates" 2>>"$log" | tee -a "$table"
# Tensor cores (experimental, opt-in, so apart from the rows below): the tuner times the
# cooperative-matrix pointwise kernel against the main one and checks it against the CPU
# reference, without caching its pick.
echo "- with EFFNET_COOPERATIVE_MATRIX=1 (not cached):" | tee -a "$table"
coop=$(EFFNET_COOPERATIVE_MATRIX=1 timeout 150 "$effnet" tune --runs "${tune_args[1]}" --dry-run --json 2>>"$log")
echo "$coop" | json_field "$candidates" 2>>"$log" | grep 'kernel gpu/pointwise' | tee -a "$table"

have_torch=0 have_ncnn=0
python3 -c "import torch, timm" 2>/dev/null && have_torch=1
python3 -c "import ncnn" 2>/dev/null && have_ncnn=1

# One row: effnet's GPU family beside PyTorch eager (or alone), then effnet's CPU family; each
# JSON line kept as $out/speed-MODEL-RES-BATCH-PRECISION-FAMILY.json.
speed_row() {
    local model=$1 res=$2 batch=$3 precision=$4 line gpu_cells cpu_cells
    local common=(--model "$model" --res "$res" --batch "$batch" --iters "$iters" --warmup "$warmup")
    local json="$out/speed-$model-$res-$batch-$precision"
    if [ "$have_torch" = 1 ]; then
        local amp=(); [ "$precision" = f16 ] && [ "$torch_device" = cuda ] && amp=(--amp)
        line=$(EFFNET_KERNELS=gpu timeout 300 python3 tools/compare_pytorch.py "${common[@]}" --precision "$precision" \
            --device "$torch_device" "${amp[@]}" "${peak_args[@]}" --effnet "$effnet" --json 2>>"$log")
        gpu_cells=$(echo "$line" | cells_of 'd["effnet"]["median_ms"], d["effnet"]["images_per_s"]')
        torch_cells=$(echo "$line" | cells_of 'd["pytorch"]["median_ms"], d["pytorch"]["images_per_s"], d["throughput_ratio_effnet_over_pytorch"]')
    else
        line=$(EFFNET_KERNELS=gpu timeout 300 "$effnet" bench "${common[@]}" --precision "$precision" "${peak_args[@]}" \
            --json 2>>"$log")
        gpu_cells=$(echo "$line" | cells_of 'd["median_ms"], d["images_per_s"]')
        torch_cells="n/a (no torch) | | "
    fi
    echo "$line" >"$json-gpu.json"
    line=$(EFFNET_KERNELS=cpu timeout 300 "$effnet" bench "${common[@]}" --precision "$precision" "${peak_args[@]}" \
        --json 2>>"$log")
    echo "$line" >"$json-cpu.json"
    cpu_cells=$(echo "$line" | cells_of 'd["median_ms"],')
    echo "| $model | $res | $batch | $precision | ${gpu_cells:-failed (see log) |} | ${cpu_cells:-failed} | ${torch_cells:-failed (see log) | |} |"
}

# One of PyTorch's other modes ("eager NHWC", "compile NCHW", ...) beside effnet's GPU family,
# both in the same run of compare_pytorch.py; the compile and its first pass are timed apart.
mode_row() {
    local model=$1 res=$2 batch=$3 precision=$4 mode=$5 layout=$6 line cells limit=300
    local flags=() label="$mode" amp=()
    [ "$precision" = f16 ] && [ "$torch_device" = cuda ] && amp=(--amp) && label="$label AMP"
    [ "$layout" = NHWC ] && flags+=(--channels-last)
    [ "$mode" = compile ] && flags+=(--compile)
    label="$label $layout"
    local lead="| $model | $res | $batch | $precision | $label |"
    [ "$SECONDS" -ge "$deadline" ] && { echo "$lead skipped: out of time | | | | |"; return; }
    if [ "$mode" = compile ]; then
        [ "$compile_rows" = 0 ] && { echo "$lead not run (GPU_CHECK_COMPILE=0) | | | | |"; return; }
        [ "$SECONDS" -ge "$((deadline - 60))" ] && { echo "$lead skipped: out of time | | | | |"; return; }
        limit=$((deadline + 60 - SECONDS)) && [ "$limit" -gt 300 ] && limit=300
    fi
    line=$(EFFNET_KERNELS=gpu timeout "$limit" python3 tools/compare_pytorch.py --model "$model" --res "$res" \
        --batch "$batch" --iters "$iters" --warmup "$warmup" --precision "$precision" --device "$torch_device" \
        "${amp[@]}" "${flags[@]}" --effnet "$effnet" --json 2>>"$log")
    local rc=$?
    echo "$line" >"$out/mode-$model-$res-$batch-$precision-$mode-$layout.json"
    if [ "$rc" = 124 ]; then
        echo "$lead skipped: ran past the deadline (${limit} s) | | | | |"
    elif [ "$rc" = 3 ]; then # PyTorch failed (a compile without a C++ compiler, say): effnet's time stands
        local why; why=$(echo "$line" | json_field 'd["pytorch_error"].replace("|", "/")[:160]' 2>>"$log")
        echo "$lead PyTorch failed: ${why:-see log} | | | $(echo "$line" | cells_of 'd["effnet"]["median_ms"],') | |"
    else
        cells=$(echo "$line" | json_field '" | ".join(["%.1f" % d["pytorch"]["compile_s"] if d["pytorch"]["compile_s"] is not None else ""] + ["%.2f" % x for x in (d["pytorch"]["median_ms"], d["pytorch"]["images_per_s"], d["effnet"]["median_ms"], d["throughput_ratio_effnet_over_pytorch"])])' 2>>"$log")
        echo "$lead ${cells:-failed (see log) | | | |} |"
    fi
}

modes="$out/modes.md"
: >"$modes"
section "Speed"
echo "Input resident on the GPU for both engines (effnet bench's headline; PyTorch eager NCHW, fp32 or AMP)." | tee -a "$table"
echo | tee -a "$table"
echo "| model | res | batch | precision | effnet GPU family ms | img/s | effnet CPU family ms | PyTorch ms | PyTorch img/s | effnet (GPU family) / PyTorch throughput |" | tee -a "$table"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" | tee -a "$table"
for row in "${rows[@]}"; do
    read -r model res batch <<<"$row"
    for precision in f32 f16; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "| $model | $res | $batch | $precision | skipped: out of time | | | | | |" | tee -a "$table"
        else
            speed_row "$model" "$res" "$batch" "$precision" | tee -a "$table"
        fi
    done
    # PyTorch's other modes where the issue asks for them, right after that setting's f16 row.
    [ "$have_torch" = 1 ] && [[ " ${mode_rows[*]/%/,} " == *" $model $res $batch, "* ]] || continue
    for torch_mode in "${torch_modes[@]}"; do
        read -r mode layout <<<"$torch_mode"
        mode_row "$model" "$res" "$batch" f16 "$mode" "$layout"
    done | tee -a "$modes"
done

section "PyTorch modes"
if [ "$have_torch" = 0 ]; then
    echo "- not run: python3 cannot import torch and timm" | tee -a "$table"
else
    echo "The f16 rows' other PyTorch modes (on $torch_device; AMP = float16 autocast on CUDA, fp32 on the CPU), each beside effnet's GPU family in the same run; eager NCHW is the Speed table's. compile s: torch.compile (default mode) and its first pass, not in the timed passes." | tee -a "$table"
    echo | tee -a "$table"
    echo "| model | res | batch | precision | PyTorch mode | compile s | PyTorch ms | PyTorch img/s | effnet GPU family ms | effnet (GPU family) / PyTorch throughput |" | tee -a "$table"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" | tee -a "$table"
    tee -a "$table" <"$modes"
    compile_s=$(cat "$out"/mode-*-compile-*.json 2>/dev/null | python3 -c "import json,sys; print('%.0f' % sum(json.loads(l)['pytorch'].get('compile_s') or 0 for l in sys.stdin if l.strip()))" 2>>"$log")
    echo | tee -a "$table"
    echo "- torch.compile and first passes: ${compile_s:-0} s in all (counted apart from the rows' times, within the deadline)" | tee -a "$table"
fi

section "Roofline by kernel kind"
# effnet bench --peak's kinds for the profiled row, f16, both families (a kind one family does
# not run, such as the GPU family's fused expand_depthwise, is n/a in the other): where each
# kind stands against min(peak GFLOP/s, FLOP/B × peak GB/s).
read -r model res batch <<<"$profile_row"
echo "$model $res batch $batch f16, peak ${peak:-none} (GFLOP/s,GB/s):" | tee -a "$table"
echo | tee -a "$table"
python3 - "$out/speed-$model-$res-$batch-f16-gpu.json" "$out/speed-$model-$res-$batch-f16-cpu.json" <<'PY' 2>>"$log" | tee -a "$table"
import json, sys
def kinds(path):
    try:
        d = json.loads(open(path).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return {}
    return {k["kind"]: k for k in d.get("effnet", d).get("kinds", [])}
gpu, cpu = kinds(sys.argv[1]), kinds(sys.argv[2])
if not gpu:
    print("- not run: the row was skipped or failed (see the log)")
    sys.exit()
def cells(k):
    if k is None:
        return "n/a | n/a | n/a"
    f = k.get("roofline_fraction")
    return f"{k['dispatches']} | {k['gpu_ms']:.3f} | " + (f"{100 * f:.2f}%" if f is not None else "n/a (no peak)")
print("| kind | FLOP/B | GPU family dispatches | GPU family ms | GPU family of roofline | CPU family dispatches | CPU family ms | CPU family of roofline |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for name in list(gpu) + [n for n in cpu if n not in gpu]:
    k = gpu.get(name) or cpu[name]
    print(f"| {name} | {k['intensity']:.2f} | {cells(gpu.get(name))} | {cells(cpu.get(name))} |")
PY

section "Slowest layers, GPU family vs CPU family"
# Per-dispatch GPU times of one profiled pass in each family (the trace's slices), the
# GPU family's slowest first, with the tiles each layer got: where the GPU family loses.
read -r model res batch <<<"$profile_row"
echo "$model $res batch $batch f16:" | tee -a "$table"
echo | tee -a "$table"
for family in gpu cpu; do
    # With a peak, the same pass drawn as a roofline (effnet bench --roofline).
    roof_args=()
    [ -n "$peak" ] && roof_args=(--peak "$peak" --roofline "$out/roofline-$family.svg" --force)
    EFFNET_KERNELS=$family timeout 120 "$effnet" bench --model "$model" --res "$res" --batch "$batch" \
        --precision f16 --iters 3 --warmup 1 --trace "$out/trace-$family.json" "${roof_args[@]}" \
        --json >/dev/null 2>>"$log"
done
if [ -n "$peak" ]; then
    echo "- roofline drawings: $out/roofline-gpu.svg, $out/roofline-cpu.svg" | tee -a "$table"
    echo | tee -a "$table"
fi
python3 - "$out/trace-gpu.json" "$out/trace-cpu.json" <<'PY' 2>>"$log" | tee -a "$table"
import json, sys
gpu, cpu = ([e for e in json.load(open(p))["traceEvents"] if e.get("ph") == "X"] for p in sys.argv[1:3])
print("| dispatch | stage | GPU family ms | CPU family ms | GPU family kernel, constants, grid |")
print("| --- | --- | --- | --- | --- |")
for i, e in sorted(enumerate(gpu), key=lambda x: -x[1]["dur"])[:12]:
    c = cpu[i]["dur"] / 1e3 if i < len(cpu) else float("nan")
    print(f"| {e['name']} | {e['args']['stage']} | {e['dur'] / 1e3:.3f} | {c:.3f} | {e['args']['kernel']} |")
PY

section "ncnn (Vulkan)"
if [ "$have_ncnn" = 0 ]; then
    echo "- not run: python3 cannot import ncnn (pip install ncnn pnnx)" | tee -a "$table"
else
    # ncnn's Python binding has no GPU-resident input: its times include upload and readback,
    # so effnet's column is its end-to-end time too (compare_ncnn.py's ratio uses the same).
    echo "| model | res | batch | precision | effnet ms (with transfers) | ncnn ms | effnet / ncnn throughput |" | tee -a "$table"
    echo "| --- | --- | --- | --- | --- | --- | --- |" | tee -a "$table"
    for row in "${ncnn_rows[@]}"; do
        read -r model res batch <<<"$row"
        [ "$SECONDS" -ge "$((deadline + 60))" ] && break
        line=$(timeout 240 python3 tools/compare_ncnn.py --model "$model" --res "$res" --batch "$batch" \
            --iters "$iters" --warmup "$warmup" --precision f32 --effnet "$effnet" --json 2>>"$log")
        cells=$(echo "$line" | cells_of 'd["effnet"].get("with_transfers_median_ms", d["effnet"]["median_ms"]), d["ncnn"]["median_ms"], d["throughput_ratio_effnet_over_ncnn"]')
        echo "| $model | $res | $batch | f32 | ${cells:-failed (see log) | |} |" | tee -a "$table"
    done
fi
echo
echo "table: $table (the run took $SECONDS s)"
