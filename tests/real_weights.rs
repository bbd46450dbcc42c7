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
    let a = Model::from_file(&weights("efficientnet-lite0-57934424.pth"), None).unwrap();
    let b = Model::from_file(&weights("tf_efficientnet_lite0.timm.pth"), None).unwrap();
    assert_eq!(a.arch.name, "tf_efficientnet_lite0");
    assert_eq!(b.arch.name, "tf_efficientnet_lite0");
    // The two files hold bit-identical tensors, folded by the same code.
    assert_eq!(a.weights.convs.len(), b.weights.convs.len());
    for (i, (x, y)) in a.weights.convs.iter().zip(&b.weights.convs).enumerate() {
        assert_eq!(x.weight, y.weight, "conv {i} weights");
        assert_eq!(x.bias, y.bias, "conv {i} bias");
    }
}

#[test]
fn lite0_logits_agree_between_formats_on_gpu() {
    let Some(_) = common::gpu() else { return };
    let engine = Engine::new().unwrap();
    let input = rule_input(&[1, 3, 224, 224]);
    let logits: Vec<Vec<f32>> = [
        "efficientnet-lite0-57934424.pth",
        "tf_efficientnet_lite0.timm.pth",
    ]
    .iter()
    .map(|f| {
        let m = engine.load(Model::from_file(&weights(f), None).unwrap());
        let mut s = m.session(m.default_options(1)).unwrap();
        s.run(&input).unwrap().logits
    })
    .collect();
    let num: f64 = logits[0]
        .iter()
        .zip(&logits[1])
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    let den: f64 = logits[1].iter().map(|b| (*b as f64).powi(2)).sum();
    // Same tensors, same kernels: the runs must agree to f32 rounding; 1e-4 is the bound.
    let rel = (num / den).sqrt();
    assert!(rel <= 1e-4, "relative L2 difference {rel:e} > 1e-4");
}
