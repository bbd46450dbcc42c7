//! tools/gpu_check.sh, the script a session runs on a lent GPU, in its `--local` mode (tiny
//! settings, any adapter), so that it cannot rot between the rare sessions that have a GPU.

mod common;

use std::process::Command;

#[test]
fn the_gpu_check_script_runs_and_prints_its_table() {
    if common::gpu().is_none() {
        return;
    }
    let out = std::env::temp_dir().join(format!("effnet-gpu-check-{}", std::process::id()));
    let run = Command::new("bash")
        .args(["tools/gpu_check.sh", "--local"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("EFFNET", env!("CARGO_BIN_EXE_effnet"))
        .env("OUT", &out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = std::fs::read_to_string(out.join("gpu_check.md")).unwrap();
    for needle in [
        "## Adapter",
        "f32: 1 of 1 golden files PASS",
        "f16: 1 of 1",
        "- best:",
    ] {
        assert!(table.contains(needle), "no `{needle}` in:\n{table}");
    }
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| tf_")).collect();
    assert_eq!(rows.len(), 6, "three settings, f32 and f16:\n{table}");
    assert!(rows.iter().all(|r| !r.contains("failed")), "{table}");
}
