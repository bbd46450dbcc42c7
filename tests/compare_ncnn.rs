//! `tools/compare_ncnn.py` (optional: effnet needs no Python) refuses clearly without ncnn, and,
//! where `ncnn`, `pnnx`, `torch` and `timm` import, runs end to end at a tiny size and reports
//! both engines' figures and their ratio. Skipped with a message where Python or the packages
//! are missing.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/compare_ncnn.py")
}

fn python_ok(code: &str) -> bool {
    Command::new("python3")
        .args(["-c", code])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg(tool()).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Without the `ncnn` package the tool exits 2 and says how to install it.
#[test]
fn missing_ncnn_exits_2_with_install_hint() {
    if !python_ok("pass") {
        eprintln!("skipping compare_ncnn test: no python3");
        return;
    }
    let dir = std::env::temp_dir().join(format!("effnet-fake-ncnn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ncnn.py"),
        "raise ImportError('ncnn hidden by the test')\n",
    )
    .unwrap();
    let out = run(&["--res", "32"], &[("PYTHONPATH", &dir)]);
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("pip install ncnn pnnx"), "stderr: {stderr}");
}

/// B0 at 64×64, batch 1, one timed pass: both engines report positive times and the ratios
/// are those times' quotients.
#[test]
fn tiny_run_reports_both_engines() {
    if !python_ok("import ncnn, pnnx, torch, timm") {
        eprintln!(
            "skipping compare_ncnn test: python3 cannot import ncnn, pnnx, torch and timm (pip install ncnn pnnx torch timm)"
        );
        return;
    }
    if common::gpu().is_none() {
        return;
    }
    // A cache shared between runs: the first conversion takes ~10 s on 2 cores.
    let cache = std::env::temp_dir().join("effnet-compare-ncnn-test-cache");
    let effnet = env!("CARGO_BIN_EXE_effnet");
    let out = run(
        &[
            "--res", "64", "--batch", "1", "--iters", "1", "--warmup", "0", "--json", "--effnet",
            effnet,
        ],
        &[("EFFNET_NCNN_CACHE", &cache)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && stderr.contains("no Vulkan device") {
        eprintln!("skipping compare_ncnn test: ncnn sees no Vulkan device");
        return;
    }
    assert!(out.status.success(), "stderr: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(stdout.trim().lines().last().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let ncnn_ms = v["ncnn"]["median_ms"].as_f64().unwrap();
    let eff_ms = v["effnet"]["median_ms"].as_f64().unwrap();
    assert!(ncnn_ms > 0.0 && eff_ms > 0.0, "{v}");
    let field = v["effnet_field_compared"].as_str().unwrap();
    let compared = v["effnet"][field].as_f64().unwrap();
    let ratio = v["throughput_ratio_effnet_over_ncnn"].as_f64().unwrap();
    assert!((ratio - ncnn_ms / compared).abs() <= 1e-9 * ratio, "{v}");
    assert!(
        v["ncnn"]["device"]["name"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert_eq!(v["effnet"]["precision"], "f32", "{v}");
}
