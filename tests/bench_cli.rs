//! `effnet bench --json --trace` reports every figure the issue asks for, and the trace is
//! valid Chrome trace-event JSON with one slice per dispatch; the two latencies (input on the
//! GPU, and with transfers) and the roofline figures per kernel kind are consistent; `--peak`
//! takes exactly two positive numbers.

mod common;

use serde_json::Value;
use std::process::{Command, Output};

fn effnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args)
        .output()
        .unwrap()
}

/// `effnet bench ARGS --json` on Lite0 at 32×32, one timed pass and no warm-up: the figures'
/// presence and consistency is what counts, and lavapipe is slow.
fn bench_json(args: &[&str]) -> Value {
    let base = ["bench", "-m", "tf_efficientnet_lite0", "--res", "32"];
    let tiny = ["--iters", "1", "--warmup", "0", "--json"];
    let all: Vec<&str> = base.iter().chain(&tiny).chain(args).copied().collect();
    let out = effnet(&all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Relative closeness for figures derived from the same f64s in another order: 1e-9 is far
/// above f64 rounding (1e-16 per operation) and far below any real discrepancy.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn bench_json_and_trace() {
    if common::gpu().is_none() {
        return;
    }
    let trace_path = std::env::temp_dir().join(format!("effnet-trace-{}.json", std::process::id()));
    // A small resolution keeps this quick on CPU drivers; the figures' presence is what counts.
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args([
            "bench",
            "--model",
            "tf_efficientnet_lite0",
            "--res",
            "64",
            "--iters",
            "3",
            "--warmup",
            "1",
            "--json",
            "--peak",
            "1000,100",
        ])
        .arg("--trace")
        .arg(&trace_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "median_ms",
        "p90_ms",
        "images_per_s",
        "host_encode_submit_ms",
        "gpu_ms",
        "with_transfers_median_ms",
        "with_transfers_p90_ms",
        "with_transfers_images_per_s",
    ] {
        let v = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {report}"));
        assert!(v > 0.0 && v.is_finite(), "{key} = {v}");
    }
    let dispatches = report["dispatches"].as_u64().unwrap() as usize;
    assert!(
        report["timestamps"].as_bool().unwrap(),
        "lavapipe has timestamp queries"
    );
    let kinds: Vec<&str> = report["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "stem",
        "expand",
        "depthwise",
        "project",
        "head",
        "classifier",
    ] {
        assert!(kinds.contains(&kind), "kind {kind} missing from {kinds:?}");
    }
    check_latencies(&report);
    check_roofline(&report, 1000.0, 100.0);
    let stages = report["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 9, "stem, 7 stages, head");
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace_path).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events.len(), dispatches, "one slice per dispatch");
    for e in events {
        assert_eq!(e["ph"], "X", "complete events");
        assert!(
            e["ts"].as_f64().is_some() && e["dur"].as_f64().unwrap() >= 0.0,
            "{e}"
        );
        assert!(
            e["name"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
    }
    std::fs::remove_file(trace_path).ok();
}

/// images/s follow from the medians; percentiles are ordered.
fn check_latencies(r: &Value) {
    let batch = f(r, "batch");
    assert!(
        close(f(r, "images_per_s"), batch / f(r, "median_ms") * 1e3),
        "{r}"
    );
    let e2e = f(r, "with_transfers_median_ms");
    assert!(
        close(f(r, "with_transfers_images_per_s"), batch / e2e * 1e3),
        "{r}"
    );
    assert!(f(r, "min_ms") <= f(r, "median_ms") && f(r, "median_ms") <= f(r, "p90_ms"));
    assert!(e2e <= f(r, "with_transfers_p90_ms"), "{r}");
}

/// Every kind's FLOPs, compulsory bytes, intensity, roofline bound and fraction agree with
/// each other, with the peaks given, and with the pass totals.
fn check_roofline(r: &Value, gflops: f64, gbps: f64) {
    assert_eq!(r["peak"]["gflop_per_s"], gflops, "{r}");
    assert_eq!(r["peak"]["gb_per_s"], gbps, "{r}");
    let kinds = r["kinds"].as_array().unwrap();
    let (mut flop, mut bytes) = (0.0, 0u64);
    for k in kinds {
        let (kf, kb) = (f(k, "flop"), k["compulsory_bytes"].as_u64().unwrap());
        assert!(
            kf > 0.0 && kb > 0,
            "every kind computes and moves data: {k}"
        );
        assert!(close(f(k, "intensity"), kf / kb as f64), "{k}");
        let bound = gflops.min(f(k, "intensity") * gbps);
        assert!(close(f(k, "roofline_gflop_per_s"), bound), "{k}");
        let fraction = f(k, "roofline_fraction");
        assert!(close(fraction, f(k, "gflop_per_s") / bound), "{k}");
        // Timestamps give every kind a positive time, so a positive, finite fraction.
        assert!(fraction > 0.0 && fraction.is_finite(), "{k}");
        assert!(
            close(f(k, "gb_per_s"), kb as f64 / f(k, "gpu_ms") / 1e6),
            "{k}"
        );
        flop += kf;
        bytes += kb;
    }
    assert!(close(flop / 1e9, f(r, "gflop_per_pass")), "{r}");
    assert_eq!(bytes, r["compulsory_bytes"].as_u64().unwrap(), "{r}");
}

#[test]
fn compulsory_bytes_follow_the_storage_precision() {
    if common::gpu().is_none() {
        return;
    }
    let f32 = bench_json(&[]);
    let f16 = bench_json(&["--precision", "f16"]);
    assert!(f32.get("peak").is_none(), "no --peak, no peak: {f32}");
    let (k32, k16) = (
        f32["kinds"].as_array().unwrap(),
        f16["kinds"].as_array().unwrap(),
    );
    assert_eq!(k32.len(), k16.len());
    for (a, b) in k32.iter().zip(k16) {
        assert!(a.get("roofline_fraction").is_none(), "no --peak: {a}");
        assert_eq!(a["flop"], b["flop"], "the same arithmetic in both");
        // Every tensor and weight is stored in 4 bytes per value in f32, 2 in f16.
        let (b32, b16) = (
            a["compulsory_bytes"].as_u64(),
            b["compulsory_bytes"].as_u64(),
        );
        assert_eq!(b32, b16.map(|b| 2 * b), "{a} {b}");
    }
}

#[test]
fn text_report_names_both_timings_and_the_roofline() {
    if common::gpu().is_none() {
        return;
    }
    let args = ["bench", "-m", "tf_efficientnet_lite0", "--res", "32"];
    let tiny = ["--iters", "1", "--warmup", "0", "--peak", "67000,4800"];
    let out = effnet(&[&args[..], &tiny[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "input on the GPU (submit + wait, no transfers): median",
        "with transfers (host upload + pass + logits readback): median",
        "roofline: peak 67000 GFLOP/s, 4800 GB/s",
        "FLOP/B",
        "of bound",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn peak_must_be_two_positive_numbers() {
    // Rejected while parsing the command line, before any GPU work: no adapter needed.
    for bad in [
        "0,4800",
        "67000",
        "67000,4800,1",
        "fast,4800",
        "-1,4800",
        "inf,4800",
    ] {
        let out = effnet(&["bench", &format!("--peak={bad}"), "--json"]);
        let err = String::from_utf8_lossy(&out.stderr);
        // 2 is clap's exit code for a usage error.
        assert_eq!(out.status.code(), Some(2), "--peak={bad}: {err}");
        assert!(
            err.contains("--peak") && err.contains("GFLOPS,GBPS"),
            "{err}"
        );
        assert!(
            out.stdout.is_empty(),
            "nothing benchmarked for --peak={bad}"
        );
    }
}

/// `--roofline FILE.svg` draws every kernel kind of the report under the --peak ceilings,
/// refuses to overwrite a photo, and needs --peak.
#[test]
fn roofline_draws_every_kind() {
    if common::gpu().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("effnet-roofline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("roofline.svg");
    let bench = |extra: &[&str]| {
        let base = [
            "bench",
            "-m",
            "tf_efficientnet_lite0",
            "--res",
            "64",
            "--iters",
            "1",
        ];
        let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
            .args(base)
            .args(["--warmup", "0", "--json"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let path = svg.to_str().unwrap();
    let (code, stdout, stderr) = bench(&["--peak", "1000,100", "--roofline", path]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("1000 GFLOP/s, 100 GB/s"),
        "{text}"
    );
    for kind in report["kinds"].as_array().unwrap() {
        let name = kind["kind"].as_str().unwrap();
        assert!(
            text.contains(&format!(">{name} ")),
            "{name} missing from {text}"
        );
    }
    let (code, _, stderr) = bench(&["--roofline", path]);
    assert_eq!(code, Some(2), "--roofline without --peak: {stderr}");
    assert!(stderr.contains("--peak"), "{stderr}");
    let photo = dir.join("photo.jpg");
    std::fs::write(&photo, [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).unwrap();
    let (code, _, stderr) = bench(&["--peak", "1000,100", "--roofline", photo.to_str().unwrap()]);
    assert_ne!(code, Some(0), "a JPEG is not replaced by a drawing");
    assert!(
        stderr.contains("not a SVG file") || stderr.contains("SVG"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tune_writes_a_cache_that_bench_uses() {
    let Some(gpu) = common::gpu() else { return };
    let cache = std::env::temp_dir().join(format!("effnet-tune-{}", std::process::id()));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
            .args(args)
            .env("EFFNET_CACHE_DIR", &cache)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let tuned = run(&["tune", "--runs", "1", "--json"]);
    let best = &tuned["best"];
    // Every CPU-family candidate, then at least the GPU family's smallest and largest grids.
    let cpu = gpu.tuning.candidates(gpu.subgroup_lanes).len();
    let all = || tuned["candidates"].as_array().unwrap().iter();
    let family = |f: &str| {
        (all())
            .filter(|c| c["family"] == f && c.get("kernel").is_none())
            .count()
    };
    assert_eq!(family("cpu"), cpu, "{tuned}");
    assert!(family("gpu") >= 2, "{tuned}");
    // Then the kernel variants of the candidate list (the CPU family's naive pointwise),
    // each timed beside its family's main kernel, and one of the two picked.
    let kernels: Vec<_> = all().filter_map(|c| c["kernel"].as_str()).collect();
    assert!(
        kernels.contains(&"cpu/pointwise/naive") && kernels.contains(&"cpu/pointwise"),
        "{kernels:?}"
    );
    // The tensor-core pointwise variant: timed in f16 where the adapter has cooperative
    // matrices, else listed as skipped with why (lavapipe has none).
    let coop = all().find(|c| c["kernel"] == "gpu/pointwise/coop");
    let coop = coop.unwrap_or_else(|| panic!("no gpu/pointwise/coop entry: {kernels:?}"));
    assert!(
        coop["skipped"].is_string() || coop["precision"] == "f16",
        "{coop}"
    );
    let pick = best["variants"]["cpu/pointwise"].as_str();
    assert!(matches!(pick, Some("main" | "naive")), "{best}");
    let text = std::fs::read_to_string(cache.join("tuning.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        stored.as_object().unwrap().values().any(|v| v == best),
        "{stored} holds {best}"
    );
    let report = run(&[
        "bench",
        "--model",
        "tf_efficientnet_lite0",
        "--res",
        "32",
        "--iters",
        "1",
        "--warmup",
        "0",
        "--json",
    ]);
    assert_eq!(&report["tuning"], best, "bench uses the cached tuning");
    std::fs::remove_dir_all(cache).ok();
}
