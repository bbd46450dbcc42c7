//! mmpretrain and mindcv checkpoints of other variants than the seed fixtures (V1 B3, V2-S,
//! mindcv B0 and V2-S), built from the frameworks' key lists (`tests/data/framework_keys`):
//! each is identified by its file name, renamed, and every tensor lands on a layer of its
//! shape; without a name, shapes shared by several of a framework's models are refused with
//! the candidates, never guessed. MindSpore Vision's rename is covered by its real fixture.

use effnet::checkpoint::{StateDict, Tensor};
use effnet::model::loader::load_state_dict;
use effnet::model::{Source, qualified_name};
use std::path::Path;

/// A state dict with the keys and shapes of `list`, every value `0.5`, BN names as the
/// framework writes them.
fn from_list(list: &str) -> StateDict {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/framework_keys")
        .join(list);
    let mut sd = StateDict::default();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let (key, shape) = line.split_once('\t').unwrap();
        let shape: Vec<usize> = (shape.trim_matches(['[', ']']).split(','))
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.trim().parse().unwrap())
            .collect();
        let values = shape.iter().product();
        sd.tensors.insert(
            key.to_string(),
            Tensor {
                shape,
                data: vec![0.5; values],
            },
        );
    }
    sd
}

#[test]
fn other_variants_load_by_file_name() {
    let cases = [
        (
            "mmpretrain_v1_b3.tsv",
            "efficientnet-b3_3rdparty_8xb32_in1k_20220119-4b4d7487.pth",
            "mmpretrain:efficientnet-b3_3rdparty_8xb32_in1k",
        ),
        (
            "mmpretrain_v2_s.tsv",
            "efficientnetv2-s_3rdparty_in1k_20221220-f0eaff9d.pth",
            "mmpretrain:efficientnetv2-s_3rdparty_in1k",
        ),
        (
            "mindcv_efficientnet_b0.tsv",
            "efficientnet_b0-103ec70c.ckpt",
            "mindcv:efficientnet_b0",
        ),
        (
            "mindcv_efficientnet_v2_s.tsv",
            "mindcv/efficientnet_v2_s.ckpt",
            "mindcv:efficientnet_v2_s",
        ),
    ];
    for (list, file, name) in cases {
        let sd = from_list(list);
        let count = sd.tensors.len();
        let loaded = load_state_dict(Path::new(file), sd, None)
            .unwrap_or_else(|e| panic!("{list} as {file}: {e}"));
        assert_eq!(qualified_name(&loaded.arch), name, "{list}");
        let params: usize = effnet::model::info(&loaded.arch, 224, 224, 1).params as usize;
        assert!(
            params > 1_000_000 && count > 300,
            "{list}: {params} parameters, {count} keys"
        );
    }
}

/// mindcv names its models like torchvision but pads like TensorFlow: a file with mindcv's
/// keys is a mindcv model even under a torchvision-looking name.
#[test]
fn mindcv_keys_pick_mindcv_over_torchvision() {
    let loaded = load_state_dict(
        Path::new("efficientnet_b0.ckpt"),
        from_list("mindcv_efficientnet_b0.tsv"),
        None,
    )
    .unwrap();
    assert_eq!(loaded.arch.source, Source::MindCv);
    assert_eq!(loaded.arch.padding, effnet::model::Padding::Same);
}

/// mmpretrain's B3 in1k, aa, advprop and noisy-student checkpoints have the same tensors but
/// not the same preprocessing: a file that does not say which is refused with the names.
#[test]
fn same_shapes_of_one_framework_are_refused_with_the_candidates() {
    let e = load_state_dict(
        Path::new("weights.pth"),
        from_list("mmpretrain_v1_b3.tsv"),
        None,
    )
    .unwrap_err()
    .to_string();
    for part in ["efficientnet-b3_3rdparty_8xb32_in1k", "advprop", "--arch"] {
        assert!(e.contains(part), "missing {part}: {e}");
    }
}

/// A file converted from a mindcv checkpoint has torchvision's key names but says it is
/// `mindcv:efficientnet_b0`: `--arch efficientnet_b0` (the name mindcv users know) is that
/// model, not torchvision's, and is not refused as a contradiction.
#[test]
fn a_bare_arch_names_a_converted_files_own_framework_model() {
    let dir = std::env::temp_dir().join(format!("effnet-fwkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("mindcv-efficientnet_b0.safetensors");
    let sd = from_list("mindcv_efficientnet_b0.tsv");
    effnet::checkpoint::save_safetensors(&source, &sd, &Default::default(), false).unwrap();
    let converted = dir.join("converted.safetensors");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_effnet"))
        .arg("convert")
        .args([source.as_os_str(), converted.as_os_str()])
        .arg("--json")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    let model = effnet::Model::from_file(&converted, Some("efficientnet_b0")).unwrap();
    assert_eq!(qualified_name(&model.arch), "mindcv:efficientnet_b0");
    let refused = effnet::Model::from_file(&converted, Some("tf_efficientnet_b0"));
    assert!(refused.is_err(), "another model is still refused");
}
