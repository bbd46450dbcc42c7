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
        // A nominal peak: the roofline fractions are printed on any adapter.
        .env("GPU_PEAK", "1000,100")
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
        "gpu kernels, f32: 1 of 1 golden files PASS",
        "gpu kernels, f16: 1 of 1",
        "cpu kernels, f32: 1 of 1",
        "cpu kernels, f16: 1 of 1",
        "## ncnn (Vulkan)",
        "- best:",
        "- cpu family f32, pointwise_co",
        "- gpu family f32, pointwise_co",
        // lavapipe has SHADER_F16: the GPU family's f16 arithmetic against f32 is timed.
        "- gpu family f16, pointwise_co",
        "gpu_f16_math True",
        "gpu_f16_math False",
        // Both fusions timed on and off, and the kernel variants by name.
        "blocks fused True",
        "blocks fused False",
        "convs fused True",
        "convs fused False",
        "kernel cpu/pointwise/naive",
        // lavapipe has no cooperative matrices: the opt-in tune lists the kernel as skipped.
        "- with EFFNET_COOPERATIVE_MATRIX=1 (not cached):",
        "kernel gpu/pointwise/coop, pointwise_co",
        "skipped: the adapter has no cooperative matrices",
        "| dispatch | stage | GPU family ms | CPU family ms |",
        "- roofline peak: 1000 GFLOP/s, 100 GB/s (GPU_PEAK)",
        "## PyTorch modes",
        "## Roofline by kernel kind",
    ] {
        assert!(table.contains(needle), "no `{needle}` in:\n{table}");
    }
    // The twelve slowest layers of the GPU family, each with its kernel, tiles and grid.
    let slowest = table.split_once("## Slowest").unwrap().1;
    let layers = slowest.lines().filter(|l| l.contains(" grid [")).count();
    assert_eq!(layers, 12, "{table}");
    let section = |name: &str| {
        let rest = table.split_once(&format!("## {name}")).unwrap().1;
        rest.split("\n## ").next().unwrap()
    };
    let tf_rows = |name: &str| -> Vec<&str> {
        section(name)
            .lines()
            .filter(|l| l.starts_with("| tf_"))
            .collect()
    };
    let rows = tf_rows("Speed");
    assert_eq!(rows.len(), 6, "three settings, f32 and f16:\n{table}");
    // Each row holds the GPU family, the CPU family and PyTorch (or "n/a (no torch)").
    assert!(rows.iter().all(|r| !r.contains("failed")), "{table}");
    assert!(rows.iter().all(|r| r.matches('|').count() == 11), "{table}");
    // Each kernel kind's share of its roofline, both families, from effnet bench --peak (a kind
    // one family does not run, such as the GPU family's fused expand_depthwise, is n/a there).
    let roofline: Vec<&str> = section("Roofline by kernel kind")
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| kind") && !l.starts_with("| ---"))
        .collect();
    for kind in ["stem", "project", "head", "classifier"] {
        let row = roofline
            .iter()
            .find(|l| l.starts_with(&format!("| {kind} |")));
        assert!(
            row.is_some_and(|r| r.matches('%').count() == 2),
            "{kind}: {table}"
        );
    }
    assert!(roofline.iter().all(|l| l.contains('%')), "{table}");
    // The profiled pass drawn in both families (effnet bench --roofline, under the peak).
    for family in ["gpu", "cpu"] {
        let svg = std::fs::read_to_string(out.join(format!("roofline-{family}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("1000 GFLOP/s, 100 GB/s"),
            "{svg}"
        );
    }
    // PyTorch's other modes where torch is installed: eager NHWC beside effnet, then one
    // torch.compile row (on the CPU it needs a C++ compiler: a failed compile says so in its row).
    let modes = tf_rows("PyTorch modes");
    if section("PyTorch modes").contains("- not run") {
        assert!(modes.is_empty(), "{table}");
    } else {
        assert_eq!(modes.len(), 2, "eager NHWC, compile NHWC:\n{table}");
        assert!(modes[0].contains("| eager NHWC |"), "{table}");
        assert!(modes[1].contains("| compile NHWC |"), "{table}");
        assert!(
            modes.iter().all(|r| r.matches('|').count() == 11),
            "{table}"
        );
        assert!(!modes[0].contains("failed"), "{table}");
        assert!(!modes[1].contains("failed (see log)"), "{table}");
    }
    let ncnn = section("ncnn (Vulkan)");
    // ncnn runs where its Python packages are installed; either way the section says so.
    let ncnn_rows = ncnn.lines().filter(|l| l.starts_with("| tf_")).count();
    assert!(ncnn_rows == 2 || ncnn.contains("not run"), "{table}");
    assert!(!ncnn.contains("failed"), "{table}");
}
