//! The model zoo against published numbers: exact parameter counts (timm / torchvision
//! `num_params`), multiply-adds within 0.5 %, and stage names and shapes of the golden
//! reference outputs in `../shared/golden`.

use effnet::Error;
use effnet::model::{self, Padding, Source, info, resolve};
use std::path::PathBuf;

fn params_of(name: &str) -> u64 {
    let arch = resolve(name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
    info(&arch, arch.resolution, arch.resolution, 1).params
}

fn assert_params(names: &[&str], expected: u64) {
    for name in names {
        let got = params_of(name);
        assert_eq!(
            got, expected,
            "{name}: params expected {expected}, got {got}"
        );
    }
}

#[test]
fn parameter_counts_are_exact() {
    assert_params(
        &[
            "tf_efficientnet_b0",
            "efficientnet_b0",
            "torchvision:efficientnet_b0",
        ],
        5_288_548,
    );
    assert_params(
        &["tf_efficientnet_b7", "torchvision:efficientnet_b7"],
        66_347_960,
    );
    assert_params(&["tf_efficientnet_b8", "efficientnet_b8"], 87_413_142);
    assert_params(&["tf_efficientnet_l2", "efficientnet_l2"], 480_309_308);
    assert_params(&["tf_efficientnet_lite0", "efficientnet_lite0"], 4_652_008);
    assert_params(&["tf_efficientnet_lite4", "efficientnet_lite4"], 13_006_568);
    assert_params(&["tf_efficientnetv2_b0"], 7_139_704);
    assert_params(&["tf_efficientnetv2_b3"], 14_358_406);
    assert_params(
        &[
            "tf_efficientnetv2_s",
            "efficientnetv2_s",
            "efficientnet_v2_s",
        ],
        21_458_488,
    );
    assert_params(
        &[
            "tf_efficientnetv2_m",
            "efficientnetv2_m",
            "efficientnet_v2_m",
        ],
        54_139_356,
    );
    assert_params(
        &[
            "tf_efficientnetv2_l",
            "efficientnetv2_l",
            "efficientnet_v2_l",
        ],
        118_515_272,
    );
    assert_params(&["tf_efficientnetv2_xl", "efficientnetv2_xl"], 208_119_808);
}

#[test]
fn torchvision_counts_match_its_weights_metadata() {
    // `num_params` of torchvision's EfficientNet_B*_Weights.
    let published = [
        ("efficientnet_b1", 7_794_184),
        ("efficientnet_b2", 9_109_994),
        ("efficientnet_b3", 12_233_232),
        ("efficientnet_b4", 19_341_616),
        ("efficientnet_b5", 30_389_784),
        ("efficientnet_b6", 43_040_704),
    ];
    for (name, expected) in published {
        let arch = resolve(name, Some(Source::Torchvision)).unwrap();
        let got = info(&arch, 224, 224, 1).params;
        assert_eq!(
            got, expected,
            "torchvision {name}: params expected {expected}, got {got}"
        );
    }
}

#[test]
fn macs_within_half_a_percent() {
    let cases = [
        ("tf_efficientnet_b0", 224, 0.386),
        ("tf_efficientnet_b4", 380, 4.394),
        ("tf_efficientnet_b7", 600, 37.746),
        ("tf_efficientnet_lite4", 300, 2.553),
        ("tf_efficientnetv2_b0", 224, 0.718),
        ("tf_efficientnetv2_s", 384, 8.366),
        ("tf_efficientnetv2_m", 480, 24.582),
        ("tf_efficientnetv2_l", 480, 56.080),
        ("tf_efficientnetv2_xl", 512, 93.353),
    ];
    for (name, res, expected_g) in cases {
        let arch = resolve(name, None).unwrap();
        let got_g = info(&arch, res, res, 1).macs as f64 / 1e9;
        let err = (got_g - expected_g).abs() / expected_g;
        println!(
            "{name} at {res}: {got_g:.4} G MACs, reference {expected_g} G, error {:.3} %",
            err * 100.0
        );
        assert!(
            err <= 0.005,
            "{name} at {res}: MACs expected {expected_g} G, got {got_g:.4} G ({:.3} %)",
            err * 100.0
        );
    }
}

#[test]
fn conventions_follow_the_source() {
    let cases = [
        ("tf_efficientnet_b3", Source::Timm, Padding::Same, 1e-3),
        ("efficientnet_b3", Source::Timm, Padding::Symmetric, 1e-5),
        (
            "torchvision:efficientnet_b3",
            Source::Torchvision,
            Padding::Symmetric,
            1e-5,
        ),
        (
            "efficientnet_v2_s",
            Source::Torchvision,
            Padding::Symmetric,
            1e-3,
        ),
        (
            "timm:tf_efficientnetv2_s",
            Source::Timm,
            Padding::Same,
            1e-3,
        ),
        // torchvision builds B5-B7 with `BatchNorm2d(eps=0.001)`.
        (
            "torchvision:efficientnet_b5",
            Source::Torchvision,
            Padding::Symmetric,
            1e-3,
        ),
    ];
    for (name, source, padding, eps) in cases {
        let a = resolve(name, None).unwrap();
        let got = (a.source, a.padding, a.bn_eps);
        assert_eq!(
            got,
            (source, padding, eps),
            "{name}: expected (source, padding, eps) {:?}, got {got:?}",
            (source, padding, eps)
        );
    }
    let by_arg = resolve("efficientnet_b0", Some(Source::Torchvision)).unwrap();
    assert_eq!(
        by_arg.stem.keys.weight, "features.0.0.weight",
        "source argument picks torchvision"
    );
}

#[test]
fn key_names_follow_the_source() {
    let timm = resolve("tf_efficientnet_b0", None).unwrap();
    let b = &timm.stages[1].blocks[0];
    let got = [
        &b.expand.as_ref().unwrap().keys.weight,
        &b.depthwise.as_ref().unwrap().keys.bn,
        &b.se.as_ref().unwrap().reduce_weight,
        &b.project.as_ref().unwrap().keys.bn,
    ];
    let expected = [
        "blocks.1.0.conv_pw.weight",
        "blocks.1.0.bn2",
        "blocks.1.0.se.conv_reduce.weight",
        "blocks.1.0.bn3",
    ];
    assert_eq!(
        got, expected,
        "timm IR keys: expected {expected:?}, got {got:?}"
    );

    let tv = resolve("torchvision:efficientnet_b0", None).unwrap();
    let ds = &tv.stages[0].blocks[0];
    let got = [
        &ds.depthwise.as_ref().unwrap().keys.weight,
        &ds.se.as_ref().unwrap().expand_bias,
        &ds.project.as_ref().unwrap().keys.bn,
    ];
    let expected = [
        "features.1.0.block.0.0.weight",
        "features.1.0.block.1.fc2.bias",
        "features.1.0.block.2.1",
    ];
    assert_eq!(
        got, expected,
        "torchvision MBConv e1 keys: expected {expected:?}, got {got:?}"
    );
    let got = (
        &tv.head.keys.weight,
        &tv.classifier.as_ref().unwrap().weight,
    );
    assert_eq!(
        got,
        (&"features.8.0.weight".into(), &"classifier.1.weight".into()),
        "torchvision head/classifier, got {got:?}"
    );

    let v2 = resolve("efficientnet_v2_s", None).unwrap();
    let fused = &v2.stages[1].blocks[0];
    let got = [
        &fused.expand.as_ref().unwrap().keys.weight,
        &fused.project.as_ref().unwrap().keys.weight,
    ];
    let expected = [
        "features.2.0.block.0.0.weight",
        "features.2.0.block.1.0.weight",
    ];
    assert_eq!(
        got, expected,
        "torchvision FusedMBConv keys: expected {expected:?}, got {got:?}"
    );
}

#[test]
fn unknown_name_lists_known_names() {
    match resolve("efficientnet_b9", None) {
        Err(Error::UnknownModel { name, known, .. }) => {
            assert_eq!(
                name, "efficientnet_b9",
                "expected the name echoed, got {name}"
            );
            for k in [
                "tf_efficientnet_b0",
                "efficientnet_v2_s",
                "torchvision:efficientnet_b0",
                "tf_efficientnetv2_xl",
            ] {
                assert!(
                    known.contains(k),
                    "known names should list {k}, got: {known}"
                );
            }
        }
        other => panic!("expected UnknownModel, got {other:?}"),
    }
    let names = model::known_names();
    assert!(
        names.len() >= 50,
        "expected every variant listed, got {} names: {names:?}",
        names.len()
    );
}

/// `../shared/golden` from the crate root; worktrees live one level deeper.
fn golden_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("../shared/golden"),
        root.join("../../shared/golden"),
    ];
    candidates
        .iter()
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("golden outputs not found; looked in {candidates:?}"))
        .clone()
}

#[test]
fn stage_shapes_and_params_match_golden() {
    let mut checked = 0;
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let g: serde_json::Value = serde_json::from_str(&text).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let name = format!(
            "{}:{}",
            g["source"].as_str().unwrap(),
            g["model"].as_str().unwrap()
        );
        let shape: Vec<usize> = serde_json::from_value(g["input_shape"].clone()).unwrap();
        let arch = resolve(&name, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        let got = info(&arch, shape[2], shape[3], shape[0]);

        let expected_params = g["params"].as_u64().unwrap();
        assert_eq!(
            got.params, expected_params,
            "{file}: params expected {expected_params}, got {}",
            got.params
        );
        let expected: Vec<(String, Vec<usize>)> = g["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    serde_json::from_value(s["shape"].clone()).unwrap(),
                )
            })
            .collect();
        let ours: Vec<(String, Vec<usize>)> = got
            .stages
            .iter()
            .map(|s| (s.name.clone(), s.output_shape.to_vec()))
            .collect();
        assert_eq!(
            ours, expected,
            "{file}: stages expected {expected:?}, got {ours:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 9,
        "expected the 9 golden files, checked {checked}"
    );
}

#[test]
fn info_serializes_with_integer_params_and_macs() {
    let arch = resolve("tf_efficientnet_b0", None).unwrap();
    let i = info(&arch, 160, 128, 2);
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(
        v["params"].as_u64(),
        Some(5_288_548),
        "JSON params, got {}",
        v["params"]
    );
    assert!(
        v["macs"].as_u64().is_some(),
        "JSON macs must be an integer, got {}",
        v["macs"]
    );
    let largest = i
        .stages
        .iter()
        .map(|s| 4 * s.output_shape.iter().product::<usize>() as u64)
        .max()
        .unwrap();
    assert!(
        i.peak_activation_bytes > largest,
        "peak {} should exceed the largest stage output {largest}",
        i.peak_activation_bytes
    );
    let table = model::format_table(&i);
    assert!(
        table.contains("5,288,548") && table.contains("blocks.6"),
        "table:\n{table}"
    );
}
