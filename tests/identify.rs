//! Checkpoints as people hold them: hub folders (`NAME/model.safetensors` or
//! `NAME/pytorch_model.bin`, with or without timm's `config.json`), torchvision files under
//! their own names, fine-tuned heads and headless backbones. Each must load as the model it
//! is (padding, BN epsilon and preprocessing included) or be refused with the candidates.

mod common;
#[path = "support/checkpoint_fixtures.rs"]
mod fixtures;

use effnet::checkpoint::{StateDict, Tensor, save_safetensors};
use effnet::model::rule::rule_tensor;
use effnet::model::weights::expected_tensors;
use effnet::model::{Arch, Interpolation, Padding, Source, resolve};
use effnet::{Error, Model};
use fixtures::{Spec, scratch, state_dict_pickle, write, zip_file};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A state dict of `name`'s tensors filled by the golden rule, with `classes` classes.
fn state_dict(name: &str, classes: usize) -> StateDict {
    let arch = resolve(name, None).unwrap().with_classes(classes);
    let tensors = expected_tensors(&arch)
        .into_iter()
        .map(|(key, shape)| {
            let data = rule_tensor(&key, &shape);
            (key, Tensor { shape, data })
        })
        .collect();
    StateDict {
        tensors,
        metadata: BTreeMap::new(),
    }
}

/// `sd` as `torch.save` writes it (zip, one float storage per tensor).
fn torch_bytes(sd: &StateDict) -> Vec<u8> {
    let keys: Vec<String> = (0..sd.tensors.len()).map(|i| i.to_string()).collect();
    let dims: Vec<(Vec<u64>, Vec<u64>)> = (sd.tensors.values())
        .map(|t| {
            let shape: Vec<u64> = t.shape.iter().map(|&d| d as u64).collect();
            let mut stride = vec![1u64; shape.len()];
            for i in (0..shape.len().saturating_sub(1)).rev() {
                stride[i] = stride[i + 1] * shape[i + 1];
            }
            (shape, stride)
        })
        .collect();
    let specs: Vec<Spec> = (sd.tensors.iter().zip(&keys).zip(&dims))
        .map(|(((key, t), storage_key), (shape, stride))| Spec {
            key,
            storage_type: "FloatStorage",
            storage_key,
            numel: t.data.len() as u64,
            view: None,
            offset: 0,
            shape,
            stride,
        })
        .collect();
    let raw: Vec<Vec<u8>> = (sd.tensors.values())
        .map(|t| bytemuck::cast_slice(&t.data).to_vec())
        .collect();
    let storages: Vec<(&str, &[u8])> = (keys.iter().zip(&raw))
        .map(|(k, r)| (k.as_str(), r.as_slice()))
        .collect();
    zip_file(
        "archive",
        &state_dict_pickle(&specs, false, false),
        &storages,
    )
}

/// timm's hub `config.json` for `name` with the preprocessing of its pretrained config.
fn timm_config(name: &str, classes: usize, labels: Option<&[&str]>) -> String {
    let a = resolve(name, None).unwrap();
    let p = a.preprocess;
    let mut cfg = serde_json::json!({
        "architecture": name,
        "num_classes": classes,
        "num_features": a.head.out_c,
        "pretrained_cfg": {
            "tag": "test", "input_size": [3, a.resolution, a.resolution],
            "interpolation": p.interpolation.name(), "crop_pct": p.crop_pct,
            "crop_mode": "center", "mean": p.mean, "std": p.std, "num_classes": classes,
        }
    });
    if let Some(l) = labels {
        cfg["label_names"] = serde_json::json!(l);
    }
    cfg.to_string()
}

/// The six layouts: (folder name, the model `resolve` gives for it, hub config or not).
const LAYOUTS: [(&str, &str, bool); 6] = [
    ("efficientnet_b0", "efficientnet_b0", true),
    ("tf_efficientnet_b0", "tf_efficientnet_b0", true),
    ("efficientnet_lite0", "efficientnet_lite0", true),
    ("tf_efficientnetv2_b0", "tf_efficientnetv2_b0", true),
    // torchvision publishes no config.json: the folder name and the key scheme decide.
    ("efficientnet_b0", "torchvision:efficientnet_b0", false),
    ("efficientnet_v2_s", "torchvision:efficientnet_v2_s", false),
];

/// Writes layout `i` under `root` as `FOLDER/model.safetensors` (or `pytorch_model.bin`).
fn hub_folder(root: &Path, i: usize, torch: bool) -> PathBuf {
    let (folder, model, config) = LAYOUTS[i];
    let dir = root.join(format!("{i}")).join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let sd = state_dict(model, 1000);
    if config {
        write(
            &dir,
            "config.json",
            timm_config(folder, 1000, None).as_bytes(),
        );
    }
    if torch {
        write(&dir, "pytorch_model.bin", &torch_bytes(&sd))
    } else {
        let path = dir.join("model.safetensors");
        save_safetensors(&path, &sd, &BTreeMap::new(), false).unwrap();
        path
    }
}

fn assert_is(arch: &Arch, expected: &str) {
    let want = resolve(expected, None).unwrap();
    let got = (&arch.name, arch.source, arch.padding, arch.bn_eps);
    let wanted = (&want.name, want.source, want.padding, want.bn_eps);
    assert_eq!(got, wanted, "loaded as {} instead of {expected}", arch.name);
    assert_eq!(
        arch.preprocess, want.preprocess,
        "{expected}: preprocessing"
    );
    assert_eq!(arch.resolution, want.resolution, "{expected}: resolution");
}

#[test]
fn hub_folders_load_as_the_model_they_are() {
    let root = scratch("hub-folders");
    for (i, (_, expected, _)) in LAYOUTS.iter().enumerate() {
        for torch in [false, true] {
            let path = hub_folder(&root, i, torch);
            let model =
                Model::from_file(&path, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_is(&model.arch, expected);
        }
    }
    // The conventions that tell the look-alikes apart, spelled out.
    let same = |i: usize| {
        Model::from_file(hub_folder(&root, i, false), None)
            .unwrap()
            .arch
    };
    let (pt, tf) = (same(0), same(1));
    assert_eq!((pt.padding, pt.bn_eps), (Padding::Symmetric, 1e-5));
    assert_eq!((tf.padding, tf.bn_eps), (Padding::Same, 1e-3));
    let lite = same(2);
    assert_eq!(
        lite.preprocess.mean,
        [0.485, 0.456, 0.406],
        "timm's efficientnet_lite0"
    );
    let v2s = same(5);
    assert_eq!(v2s.source, Source::Torchvision);
    assert_eq!(v2s.preprocess.interpolation, Interpolation::Bilinear);
    assert_eq!((v2s.resolution, v2s.bn_eps), (384, 1e-3));
}

#[test]
fn shapes_that_fit_several_models_are_refused_with_the_candidates() {
    let dir = scratch("ambiguous").join("checkpoints");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    save_safetensors(
        &path,
        &state_dict("efficientnet_b0", 1000),
        &BTreeMap::new(),
        false,
    )
    .unwrap();
    let e = Model::from_file(&path, None).unwrap_err();
    let text = e.to_string();
    for needle in ["efficientnet_b0", "tf_efficientnet_b0", "--arch"] {
        assert!(text.contains(needle), "message lacks `{needle}`: {text}");
    }
    for name in ["efficientnet_b0", "tf_efficientnet_b0"] {
        let model = Model::from_file(&path, Some(name)).unwrap();
        assert_is(&model.arch, name);
    }
}

#[test]
fn a_torchvision_v2_under_any_name_is_told_by_its_shapes() {
    let dir = scratch("tv-custom");
    let path = dir.join("my_finetune_final.safetensors");
    save_safetensors(
        &path,
        &state_dict("efficientnet_v2_s", 1000),
        &BTreeMap::new(),
        false,
    )
    .unwrap();
    assert_is(
        &Model::from_file(&path, None).unwrap().arch,
        "torchvision:efficientnet_v2_s",
    );
}

#[test]
fn fine_tuned_heads_and_headless_backbones_load() {
    let dir = scratch("heads").join("tf_efficientnet_lite0");
    std::fs::create_dir_all(&dir).unwrap();
    let labels = ["cat", "dog", "cow"];
    let path = dir.join("model.safetensors");
    save_safetensors(
        &path,
        &state_dict("tf_efficientnet_lite0", 3),
        &BTreeMap::new(),
        false,
    )
    .unwrap();
    write(
        &dir,
        "config.json",
        timm_config("tf_efficientnet_lite0", 3, Some(&labels)).as_bytes(),
    );
    let model = Model::from_file(&path, None).unwrap();
    assert_eq!(model.arch.num_classes(), 3);
    assert_eq!(model.labels.as_deref(), Some(&labels.map(String::from)[..]));
    // A config that disagrees with the tensors is refused, naming both counts.
    write(
        &dir,
        "config.json",
        timm_config("tf_efficientnet_lite0", 5, None).as_bytes(),
    );
    let text = Model::from_file(&path, None).unwrap_err().to_string();
    assert!(
        text.contains("num_classes 5") && text.contains("3 classes"),
        "{text}"
    );
    std::fs::remove_file(dir.join("config.json")).unwrap();

    let headless = dir.join("backbone.safetensors");
    save_safetensors(
        &headless,
        &state_dict("tf_efficientnet_lite0", 0),
        &BTreeMap::new(),
        false,
    )
    .unwrap();
    let model = Model::from_file(&headless, None).unwrap();
    assert!(model.arch.classifier.is_none());
    assert_eq!(model.arch.output_width(), 1280, "pooled head features");
}

#[test]
fn a_non_finite_weight_is_refused_with_its_name() {
    let dir = scratch("nan");
    let mut sd = state_dict("tf_efficientnet_lite0", 1000);
    let key = "blocks.2.1.bn2.running_var";
    sd.tensors.get_mut(key).unwrap().data[7] = f32::NAN;
    let path = dir.join("tf_efficientnet_lite0.safetensors");
    save_safetensors(&path, &sd, &BTreeMap::new(), false).unwrap();
    let e = Model::from_file(&path, None).unwrap_err();
    assert!(matches!(e, Error::BadFile { .. }), "{e:?}");
    assert!(e.to_string().contains(key), "{e}");
    let pth = write(&dir, "tf_efficientnet_lite0.pth", &torch_bytes(&sd));
    assert!(
        Model::from_file(&pth, None)
            .unwrap_err()
            .to_string()
            .contains(key)
    );
}

/// Runs the `effnet` binary; its stdout, after checking it succeeded.
fn effnet(args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{args:?}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The top-5 class indices `effnet classify` gives for one photo with `model`.
fn top5(model: &Path) -> Vec<u64> {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/images/n07753592_banana.JPEG");
    // 64 px keeps six models fast on a software driver; the answer only has to agree.
    let args = [
        "classify".as_ref(),
        photo.as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
    ];
    let out = effnet(&[&args[..], &["--res", "64", "--json"].map(AsRef::as_ref)[..]].concat());
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let top = json["top"].as_array().unwrap();
    top.iter().map(|t| t["index"].as_u64().unwrap()).collect()
}

/// Converting writes the exact model name, so the converted file loads as the same model
/// from any file name, and classifies the same.
#[test]
fn converted_files_load_as_the_same_model_anywhere() {
    let root = scratch("convert-layouts");
    for (i, (_, expected, _)) in LAYOUTS.iter().enumerate() {
        let input = hub_folder(&root, i, i % 2 == 1);
        let out = root.join(format!("converted-{i}.safetensors"));
        effnet(&["convert".as_ref(), input.as_os_str(), out.as_os_str()]);
        let original = Model::from_file(&input, None).unwrap();
        let converted = Model::from_file(&out, None).unwrap();
        assert_is(&converted.arch, expected);
        assert_eq!(converted.arch, original.arch);
        assert_eq!(
            converted.weights.convs[0].weight,
            original.weights.convs[0].weight
        );
        if common::gpu().is_some() {
            let (a, b) = (top5(&input), top5(&out));
            assert_eq!(a.len(), 5);
            assert_eq!(
                a, b,
                "{expected}: top-5 of the original and the converted file"
            );
        }
    }
}

/// A fine-tuned head converted with `--labels` classifies with its own names and no flags; a
/// headless backbone gives embeddings and a clear refusal to classify.
#[test]
fn converted_fine_tuned_heads_keep_their_class_names() {
    let dir = scratch("labels");
    let input = dir.join("tf_efficientnet_lite0_pets.safetensors");
    let sd = state_dict("tf_efficientnet_lite0", 3);
    save_safetensors(&input, &sd, &BTreeMap::new(), false).unwrap();
    let labels = write(&dir, "labels.txt", b"tabby cat\nbeagle\nhamster\n");
    let out = dir.join("pets.safetensors");
    let args = ["convert", "--labels"].map(AsRef::as_ref);
    effnet(
        &[
            &args[..],
            &[labels.as_os_str(), input.as_os_str(), out.as_os_str()],
        ]
        .concat(),
    );
    let model = Model::from_file(&out, None).unwrap();
    assert_eq!(model.labels.unwrap(), ["tabby cat", "beagle", "hamster"]);
    if common::gpu().is_none() {
        return;
    }
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/images/n02123045_tabby.JPEG");
    let cmd = [
        "classify".as_ref(),
        photo.as_os_str(),
        "--model".as_ref(),
        out.as_os_str(),
    ];
    let printed = effnet(&[&cmd[..], &["--res", "64", "--json"].map(AsRef::as_ref)[..]].concat());
    let json: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    let names: Vec<&str> = (json["top"].as_array().unwrap().iter())
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "top-k is capped at the class count: {printed}"
    );
    assert!(names.contains(&"beagle"), "{printed}");

    let backbone = dir.join("tf_efficientnet_lite0_backbone.safetensors");
    let sd = state_dict("tf_efficientnet_lite0", 0);
    save_safetensors(&backbone, &sd, &BTreeMap::new(), false).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args([
            "classify".as_ref(),
            photo.as_os_str(),
            "--model".as_ref(),
            backbone.as_os_str(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("no classifier"),
        "{stderr}"
    );
    assert!(stderr.contains("effnet features"), "{stderr}");
}
