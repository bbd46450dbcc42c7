//! Every golden file in `../shared/golden` within the tolerances of its README, on the GPU
//! and on the CPU reference; the same for the fine-tuned-head goldens of `tests/data/golden`
//! (made by `tools/make_goldens.py`: 10 classes, and no classifier); plus the rule's published
//! test vectors and bad-file errors.

mod common;

use effnet::golden::{Backend, Golden, verify};
use effnet::gpu::Precision;
use effnet::kernels::Layout;
use effnet::model::rule::{fnv1a64, rule_tensor, uniform};
use effnet::{Engine, Family};
use std::path::PathBuf;

fn golden_files() -> Vec<PathBuf> {
    json_files(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/golden"
    )))
}

/// The goldens of fine-tuned heads, `tools/make_goldens.py`'s output, kept in the repository.
fn head_golden_files() -> Vec<PathBuf> {
    let files = json_files(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/golden"
    )));
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "timm-tf_efficientnet_lite0-nc10-192x160-b2.json",
        "timm-tf_efficientnet_lite0-nc0-192x160-b1.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from tests/data/golden"
        );
    }
    files
}

fn json_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (clone the repo with shared/ beside it)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    files
}

fn check_all(backend: &Backend) {
    check_files(&golden_files(), backend);
}

fn check_files(files: &[PathBuf], backend: &Backend) {
    let mut failures = vec![];
    for f in files {
        let g = Golden::load(f).unwrap();
        let v = verify(&g, backend).unwrap();
        eprintln!(
            "{}: logits {:.2e}, worst sample {:.2e} x rms at {}",
            f.display(),
            v.logits_rel_err,
            v.worst_sample,
            v.worst_stage
        );
        let (logits_tol, sample_tol) = backend.tolerances();
        if !v.pass {
            failures.push(format!(
                "{}: logits rel err {:.3e} (tolerance {logits_tol:e}), worst sample {:.3e} x rms (tolerance {sample_tol:e}) at {}; {:?}",
                f.display(), v.logits_rel_err, v.worst_sample, v.worst_stage, v.problems
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden failures:\n{}",
        failures.join("\n")
    );
}

/// The GPU, announcing `family`'s kernels (CI runs every golden in both families).
fn gpu_with(family: Family) -> Option<effnet::gpu::Gpu> {
    let gpu = common::gpu()?;
    eprintln!("{family:?} kernel family");
    Some(gpu)
}

/// An engine on `gpu` as it is now, running `family`'s kernels.
fn engine(gpu: &effnet::gpu::Gpu, family: Family) -> Engine {
    Engine::from_gpu(gpu.clone()).with_kernels(family)
}

fn goldens_in_f32(family: Family) {
    goldens_in_f32_laid_out(family, Layout::Nchw);
}

/// With the GPU family's activations in `layout` (`Tuning::gpu_layout`).
fn goldens_in_f32_laid_out(family: Family, layout: Layout) {
    let Some(mut gpu) = gpu_with(family) else {
        return;
    };
    gpu.tuning.gpu_layout = layout;
    check_all(&Backend::Gpu(&engine(&gpu, family), Precision::F32));
}

fn goldens_in_f16(family: Family) {
    goldens_in_f16_laid_out(family, Layout::Nchw);
}

/// With the GPU family's activations in `layout` (`Tuning::gpu_layout`).
fn goldens_in_f16_laid_out(family: Family, layout: Layout) {
    let Some(mut gpu) = gpu_with(family) else {
        return;
    };
    gpu.tuning.gpu_layout = layout;
    // Native f16 where the adapter has SHADER_F16 (in the GPU family with f16 arithmetic and
    // without: `Tuning::gpu_f16_math`), and always the packed-pair fallback.
    let maths = match (gpu.native_f16, family) {
        (false, _) => vec![],
        (true, Family::Gpu) => vec![true, false],
        (true, _) => vec![gpu.tuning.gpu_f16_math],
    };
    let runs = maths.into_iter().map(|m| (true, m)).chain([(false, false)]);
    for (native_f16, gpu_f16_math) in runs {
        gpu.native_f16 = native_f16;
        gpu.tuning.gpu_f16_math = gpu_f16_math;
        eprintln!("f16 storage, native: {native_f16}, GPU-family f16 arithmetic: {gpu_f16_math}");
        check_all(&Backend::Gpu(&engine(&gpu, family), Precision::F16));
    }
}

#[test]
fn golden_files_match_on_gpu() {
    goldens_in_f32(Family::Cpu);
}

#[test]
fn golden_files_match_on_gpu_in_f16() {
    goldens_in_f16(Family::Cpu);
}

#[test]
fn golden_files_match_on_gpu_with_gpu_family_kernels() {
    goldens_in_f32(Family::Gpu);
}

#[test]
fn golden_files_match_on_gpu_in_f16_with_gpu_family_kernels() {
    goldens_in_f16(Family::Gpu);
}

/// Channels-last sessions (`effnet::kernels::Layout::Nhwc`): every op in NHWC kernels but
/// SE, whose per-channel vectors both layouts share, the input converted on upload and the
/// stages and logits read back NCHW.
#[test]
fn golden_files_match_on_gpu_with_nhwc_kernels() {
    goldens_in_f32_laid_out(Family::Gpu, Layout::Nhwc);
}

#[test]
fn golden_files_match_on_gpu_in_f16_with_nhwc_kernels() {
    goldens_in_f16_laid_out(Family::Gpu, Layout::Nhwc);
}

#[test]
fn golden_files_match_on_cpu_reference() {
    check_all(&Backend::Cpu);
}

/// The head goldens with tolerances stated here rather than taken from the library, so that a
/// loosened constant in `effnet::golden` cannot hide a regression: each file must pass
/// `verify`'s own verdict and these bounds. Also checks each file's model has the head the file
/// names (10 classes; 0: the rows are Lite0's 1280 pooled head features).
fn check_head_goldens(backend: &Backend, (logits_tol, sample_tol): (f64, f64)) {
    let files = head_golden_files();
    for f in &files {
        let g = Golden::load(f).unwrap();
        let width = if g.num_classes == 0 {
            1280
        } else {
            g.num_classes
        };
        assert_eq!(g.logits.len(), g.input_shape[0] * width, "{}", f.display());
        let v = verify(&g, backend).unwrap();
        assert!(
            v.logits_rel_err <= logits_tol && v.worst_sample <= sample_tol,
            "{}: logits rel err {:.3e} (tolerance {logits_tol:e}), worst sample {:.3e} x rms \
             (tolerance {sample_tol:e}) at {}",
            f.display(),
            v.logits_rel_err,
            v.worst_sample,
            v.worst_stage
        );
    }
    check_files(&files, backend);
}

/// Each family, and the GPU family's channels-last sessions (whose logits pad 10 classes to
/// 12, read back without the padding).
const SESSION_KINDS: [(Family, Layout); 3] = [
    (Family::Cpu, Layout::Nchw),
    (Family::Gpu, Layout::Nchw),
    (Family::Gpu, Layout::Nhwc),
];

#[test]
fn head_golden_files_match_on_gpu() {
    for (family, layout) in SESSION_KINDS {
        let Some(mut gpu) = gpu_with(family) else {
            return;
        };
        gpu.tuning.gpu_layout = layout;
        // README, float32 arithmetic: logits relative L2 error <= 1e-4, every stage sample
        // within 1e-3 x its stage's RMS (summation order differs from PyTorch's, nothing else
        // should).
        check_head_goldens(
            &Backend::Gpu(&engine(&gpu, family), Precision::F32),
            (1e-4, 1e-3),
        );
    }
}

#[test]
fn head_golden_files_match_on_gpu_in_f16() {
    for (family, layout) in SESSION_KINDS {
        let Some(mut gpu) = gpu_with(family) else {
            return;
        };
        gpu.tuning.gpu_layout = layout;
        let native = gpu.native_f16;
        for native_f16 in [native, false] {
            gpu.native_f16 = native_f16;
            eprintln!("f16 storage, native: {native_f16}");
            // README, float16 weights or activations: logits relative error <= 2e-2, samples
            // within 5e-2 x RMS (f16 keeps 11 significant bits, ~5e-4 relative per rounding,
            // compounded over the network's depth).
            check_head_goldens(
                &Backend::Gpu(&engine(&gpu, family), Precision::F16),
                (2e-2, 5e-2),
            );
        }
    }
}

#[test]
fn head_golden_files_match_on_cpu_reference() {
    // The CPU reference accumulates in f64 from f32 weights and activations: the README's
    // float32 tolerances apply (logits 1e-4 relative, samples 1e-3 x RMS).
    check_head_goldens(&Backend::Cpu, (1e-4, 1e-3));
}

#[test]
fn rule_test_vectors() {
    assert_eq!(fnv1a64(b"input"), 0x1ebbae8f5810b65b);
    assert_eq!(fnv1a64(b"conv_stem.weight"), 0x4f2714ee7941f359);
    let input = [0.0978183426575382, 0.14747860371491817, 0.5740844483096654];
    let stem = [0.46950939632904587, 0.718999998608763, 0.9457770132363378];
    for i in 0..3 {
        // These are exact binary64 values printed with 17 significant digits.
        assert_eq!(uniform("input", i as u64), input[i], "u_{i} of input");
        assert_eq!(
            uniform("conv_stem.weight", i as u64),
            stem[i],
            "u_{i} of conv_stem.weight"
        );
    }
    let w = rule_tensor("conv_stem.weight", &[32, 3, 3, 3]);
    // The README prints these float32 values to at most 8 decimals: 5e-9 is half of the
    // last printed digit, so a value that prints the same passes and any other fails.
    for (i, (&ours, reference)) in w
        .iter()
        .zip([-0.02032707f64, 0.146, 0.29718468])
        .enumerate()
    {
        let tol = 5e-9;
        assert!(
            (ours as f64 - reference).abs() <= tol,
            "stem weight {i}: ours {ours}, reference {reference}, tolerance {tol}"
        );
    }
}

fn write_variant(name: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let src = golden_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("lite0"))
        .unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    edit(&mut v);
    let path =
        std::env::temp_dir().join(format!("effnet-golden-{name}-{}.json", std::process::id()));
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

/// An edit that breaks a golden file.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn bad_golden_files_give_one_line_errors() {
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "unknown-model",
            Box::new(|v| v["model"] = "efficientnet_b99".into()),
            "unknown model",
        ),
        (
            "bad-shape",
            Box::new(|v| v["input_shape"] = serde_json::json!([1, 3, 224])),
            "input_shape",
        ),
        (
            "bad-sample",
            Box::new(|v| v["stages"][0]["samples"][0] = serde_json::json!([0, 999, 0, 0, 1.0])),
            "outside shape",
        ),
        (
            "bad-logits",
            Box::new(|v| v["logits"] = serde_json::json!([])),
            "logits",
        ),
        (
            "ragged-logits",
            Box::new(|v| {
                v["input_shape"][0] = 2.into();
                v["logits"] = serde_json::json!([[0.5, 0.25], [1.0]]);
            }),
            "logits row 1 has 1 values, row 0 has 2",
        ),
        (
            "empty-logits-row",
            Box::new(|v| v["logits"] = serde_json::json!([[]])),
            "logits rows are empty",
        ),
        (
            "bad-num-classes",
            Box::new(|v| v["num_classes"] = "ten".into()),
            "num_classes",
        ),
        (
            "num-classes-vs-rows",
            Box::new(|v| v["num_classes"] = 10.into()),
            "num_classes is 10 but the logits rows have 1000 values",
        ),
        (
            // Headless Lite0 outputs 1280 pooled features, the file has 1000 values a row.
            "headless-vs-rows",
            Box::new(|v| v["num_classes"] = 0.into()),
            "1000 values",
        ),
    ];
    for (name, edit, expected) in cases {
        let path = write_variant(name, edit);
        let err = Golden::load(&path)
            .and_then(|g| verify(&g, &Backend::Cpu))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expected),
            "{name}: error {err:?} should mention {expected:?}"
        );
        assert!(
            !err.contains('\n'),
            "{name}: error must be one line: {err:?}"
        );
        std::fs::remove_file(path).ok();
    }
    let path = std::env::temp_dir().join("effnet-golden-not-json.json");
    std::fs::write(&path, b"{ truncated").unwrap();
    assert!(
        Golden::load(&path)
            .unwrap_err()
            .to_string()
            .contains("not JSON")
    );
}
