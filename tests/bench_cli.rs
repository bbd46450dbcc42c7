//! `effnet bench --json --trace` reports every figure the issue asks for, and the trace is
//! valid Chrome trace-event JSON with one slice per dispatch.

mod common;

use std::process::Command;

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
    let candidates = effnet::gpu::Tuning::candidates(gpu.subgroup_lanes).len();
    assert_eq!(
        tuned["candidates"].as_array().unwrap().len(),
        candidates,
        "{tuned}"
    );
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
