#!/usr/bin/env bash
# The GPU check a session runs when it is lent a GPU machine (see the device tool's README
# for carrying the Vulkan loader): one script, under 8 minutes, that prints a markdown table
# for BENCHMARKS.md. Steps: the adapter (vulkaninfo --summary, effnet devices); effnet verify
# on the shared goldens, f32 and f16, in both kernel families; effnet tune (both families'
# candidates listed); effnet bench on
# B0 224 at batch 1, 8, 64, 256 and V2-S 384 at batch 1 and 32, f32 and f16, GPU family and
# CPU family, each beside PyTorch on the same device in the same run (tools/compare_pytorch.py:
# fp32 for f32 rows, --amp for f16 rows) where torch and timm are installed, and beside ncnn's
# Vulkan backend (tools/compare_ncnn.py) on the B0 rows at batch 1 and 8 where ncnn and pnnx are.
#
#   bash tools/gpu_check.sh            # on the lent machine
#   bash tools/gpu_check.sh --local    # tiny settings on any adapter (lavapipe): tests/gpu_check.rs
#
# EFFNET names the effnet binary (default target/release/effnet, built when missing); SHARED the
# shared data folder (default ../shared); GPU_CHECK_BUDGET_S the seconds the speed rows may run
# to (default 460); OUT, when set, receives the log and the table.
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

if [ "$local_mode" = 1 ]; then
    goldens=("$shared"/golden/timm-tf_efficientnet_lite0-224x224-b1.json)
    rows=("tf_efficientnet_b0 64 1" "tf_efficientnet_b0 64 2" "tf_efficientnet_lite0 48 1")
    iters=2 warmup=1 torch_device=cpu tune_args=(--runs 1 --dry-run)
else
    goldens=("$shared"/golden/*.json)
    # Most wanted first: rows past the time budget are skipped.
    rows=("tf_efficientnet_b0 224 1" "tf_efficientnet_b0 224 8" "tf_efficientnet_b0 224 256"
        "tf_efficientnet_b0 224 64" "tf_efficientnetv2_s 384 1" "tf_efficientnetv2_s 384 32")
    iters=20 warmup=3 torch_device=cuda tune_args=(--runs 5)
fi

section() { printf '\n## %s\n\n' "$1" | tee -a "$table"; }
json_field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print($1)"; }
cells_of() { json_field '" | ".join(f"{x:.2f}" for x in ('"$1"'))' 2>>"$log"; }

: >"$table"
section "Adapter"
{ command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>/dev/null | sed -n '/Devices:/,$p' | head -20; } | tee -a "$table"
"$effnet" devices 2>&1 | tee -a "$table"

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
echo "$tuned" | json_field '"\n".join("- %s family %s, pointwise_co %s, subgroups %s, gpu_units %s, gpu_subgroup_sums %s, gpu_f16_math %s: %.2f ms%s" % (c["family"], c["precision"], c["pointwise_co"], c["subgroups"], c["gpu_units"], c["gpu_subgroup_sums"], c["gpu_f16_math"], c["ms"], "" if c["correct"] else ", WRONG") for c in d["candidates"])' 2>>"$log" | tee -a "$table"

have_torch=0 have_ncnn=0
python3 -c "import torch, timm" 2>/dev/null && have_torch=1
python3 -c "import ncnn" 2>/dev/null && have_ncnn=1

# One row: effnet's GPU family beside PyTorch (or alone), then effnet's CPU family.
speed_row() {
    local model=$1 res=$2 batch=$3 precision=$4 line gpu_cells cpu_cells
    local common=(--model "$model" --res "$res" --batch "$batch" --iters "$iters" --warmup "$warmup")
    if [ "$have_torch" = 1 ]; then
        local amp=(); [ "$precision" = f16 ] && [ "$torch_device" = cuda ] && amp=(--amp)
        line=$(EFFNET_KERNELS=gpu timeout 300 python3 tools/compare_pytorch.py "${common[@]}" --precision "$precision" \
            --device "$torch_device" "${amp[@]}" --effnet "$effnet" --json 2>>"$log")
        gpu_cells=$(echo "$line" | cells_of 'd["effnet"]["median_ms"], d["effnet"]["images_per_s"]')
        torch_cells=$(echo "$line" | cells_of 'd["pytorch"]["median_ms"], d["pytorch"]["images_per_s"], d["throughput_ratio_effnet_over_pytorch"]')
    else
        line=$(EFFNET_KERNELS=gpu timeout 300 "$effnet" bench "${common[@]}" --precision "$precision" --json 2>>"$log")
        gpu_cells=$(echo "$line" | cells_of 'd["median_ms"], d["images_per_s"]')
        torch_cells="n/a (no torch) | | "
    fi
    line=$(EFFNET_KERNELS=cpu timeout 300 "$effnet" bench "${common[@]}" --precision "$precision" --json 2>>"$log")
    cpu_cells=$(echo "$line" | cells_of 'd["median_ms"],')
    echo "| $model | $res | $batch | $precision | ${gpu_cells:-failed (see log) |} | ${cpu_cells:-failed} | ${torch_cells:-failed (see log) | |} |"
}

section "Speed"
echo "Input resident on the GPU for both engines (effnet bench's headline; PyTorch eager, fp32 or AMP)." | tee -a "$table"
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
done

section "Slowest layers, GPU family vs CPU family"
# Per-dispatch GPU times of one profiled pass in each family (the trace's slices), the
# GPU family's slowest first, with the tiles each layer got: where the GPU family loses.
read -r model res batch <<<"${rows[$(( ${#rows[@]} > 2 ? 2 : 0 ))]}"
echo "$model $res batch $batch f16:" | tee -a "$table"
echo | tee -a "$table"
for family in gpu cpu; do
    EFFNET_KERNELS=$family timeout 120 "$effnet" bench --model "$model" --res "$res" --batch "$batch" \
        --precision f16 --iters 3 --warmup 1 --trace "$out/trace-$family.json" --json >/dev/null 2>>"$log"
done
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
    for row in "${rows[@]:0:2}"; do
        read -r model res batch <<<"$row"
        [ "$SECONDS" -ge "$((deadline + 60))" ] && break
        line=$(timeout 240 python3 tools/compare_ncnn.py --model "$model" --res "$res" --batch "$batch" \
            --iters "$iters" --warmup "$warmup" --precision f32 --effnet "$effnet" --json 2>>"$log")
        cells=$(echo "$line" | cells_of 'd["effnet"].get("with_transfers_median_ms", d["effnet"]["median_ms"]), d["ncnn"]["median_ms"], d["throughput_ratio_effnet_over_ncnn"]')
        echo "| $model | $res | $batch | f32 | ${cells:-failed (see log) | |} |" | tee -a "$table"
    done
fi
echo
echo "table: $table"
