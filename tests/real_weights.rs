//! The real Lite0 ImageNet weights in both PyTorch formats load into the same model.

mod common;

use effnet::model::rule::rule_input;
use effnet::{Engine, Model};
use std::path::PathBuf;

fn weights(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/weights")).join(name)
}

#[test]
fn both_lite0_files_choose_tf_lite0_and_equal_weights() {
    let a = Model::from_file(weights("efficientnet-lite0-57934424.pth"), None).unwrap();
    let b = Model::from_file(weights("tf_efficientnet_lite0.timm.pth"), None).unwrap();
    assert_eq!(a.arch.name, "tf_efficientnet_lite0");
    assert_eq!(b.arch.name, "tf_efficientnet_lite0");
    // The two files hold bit-identical tensors, folded by the same code.
    assert_eq!(a.weights.convs.len(), b.weights.convs.len());
    for (i, (x, y)) in a.weights.convs.iter().zip(&b.weights.convs).enumerate() {
        assert_eq!(x.weight, y.weight, "conv {i} weights");
        assert_eq!(x.bias, y.bias, "conv {i} bias");
    }
}

/// `effnet convert` (f32) of the legacy .pth into a temporary directory; `tag` keeps tests
/// running in parallel apart.
fn converted_lite0(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("effnet-real-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("lite0-{tag}.safetensors"));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_effnet"))
        .arg("convert")
        .arg(weights("efficientnet-lite0-57934424.pth"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "convert failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

#[test]
fn converted_file_names_its_variant_and_keeps_raw_timm_tensors() {
    let out = converted_lite0("raw");
    let sd = effnet::checkpoint::load(&out).unwrap();
    let timm = effnet::checkpoint::load(&weights("tf_efficientnet_lite0.timm.pth")).unwrap();
    assert_eq!(sd.metadata["effnet.variant"], "tf_efficientnet_lite0");
    assert_eq!(
        sd.metadata["effnet.source_sha256"],
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
    );
    // Un-folded, in timm's names: exactly the tensors of timm's own state dict.
    assert_eq!(sd.tensors, timm.tensors);
}

#[test]
fn lite0_logits_agree_between_formats_on_gpu() {
    let Some(_) = common::gpu() else { return };
    let engine = Engine::new().unwrap();
    let input = rule_input(&[1, 3, 224, 224]);
    let files = [
        weights("efficientnet-lite0-57934424.pth"),
        weights("tf_efficientnet_lite0.timm.pth"),
        converted_lite0("logits"),
    ];
    let logits: Vec<Vec<f32>> = files
        .iter()
        .map(|f| {
            // No name given: the variant comes from the file (metadata for the converted one).
            let m = engine.load(Model::from_file(f, None).unwrap()).unwrap();
            let mut s = m.session(m.default_options(1)).unwrap();
            s.run(&input).unwrap().logits
        })
        .collect();
    for (f, other) in files.iter().zip(&logits).skip(1) {
        let num: f64 = (other.iter().zip(&logits[0]))
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum();
        let den: f64 = logits[0].iter().map(|b| (*b as f64).powi(2)).sum();
        // Same tensors, same kernels: the runs must agree to f32 rounding; 1e-4 is the issue's
        // bound.
        let rel = (num / den).sqrt();
        eprintln!("{}: relative L2 difference {rel:e}", f.display());
        assert!(
            rel <= 1e-4,
            "{}: relative L2 difference {rel:e} > 1e-4",
            f.display()
        );
    }
}
