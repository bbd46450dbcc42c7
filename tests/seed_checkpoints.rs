//! Checkpoints written by mmpretrain and MindSpore themselves (`../shared/seed-checkpoints`):
//! they load with no flag, give the framework's logits on its own input tensor in both kernel
//! families, f32 and f16, and effnet's own preprocessing of the photo matches that tensor;
//! `classify` names the framework and `convert` round-trips them.

mod common;

use effnet::model::{Source, known_names, resolve};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed-checkpoints")
}

/// Every fixture JSON of the folder.
fn fixtures() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = (std::fs::read_dir(seeds()).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    assert!(found.len() >= 2, "the seed fixtures are missing: {found:?}");
    found
}

fn effnet(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    out
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// `effnet verify` on every fixture, in each kernel family and precision: the tolerances are
/// the seed README's in f32 (logits 1e-4 relative, samples 1e-3 × RMS) and the golden f16 ones
/// (2e-2, 5e-2), which `verify` applies by precision; the input within 2 pixel levels.
#[test]
fn every_fixture_verifies_in_both_families() {
    if common::gpu().is_none() {
        return;
    }
    let files = fixtures();
    for kernels in ["cpu", "gpu"] {
        for precision in ["f32", "f16"] {
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
                vec![&"--kernels", &kernels, &"verify", &"--precision", &precision, &"--json"];
            args.extend(files.iter().map(|f| f as &dyn AsRef<std::ffi::OsStr>));
            let out = effnet(&args);
            let said = text(&out);
            assert!(out.status.success(), "{kernels} {precision}: {said}");
            let lines: Vec<&str> = said.lines().filter(|l| l.starts_with('{')).collect();
            assert_eq!(lines.len(), files.len(), "{said}");
            for line in lines {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["pass"], true, "{kernels} {precision}: {line}");
                assert!(v["input_levels"].as_f64().unwrap() <= 2.0001, "{line}");
            }
        }
    }
}

/// The CPU reference agrees too (it is the oracle of every kernel).
#[test]
fn every_fixture_verifies_on_the_cpu_reference() {
    let files = fixtures();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"verify", &"--cpu"];
    args.extend(files.iter().map(|f| f as &dyn AsRef<std::ffi::OsStr>));
    let out = effnet(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out).matches("PASS").count(), files.len(), "{}", text(&out));
}

/// `classify -m FILE` names the framework and model and runs the framework's preprocessing;
/// `convert` writes a file that loads as the same model and gives the same answer.
#[test]
fn classify_names_the_framework_and_convert_round_trips() {
    if common::gpu().is_none() {
        return;
    }
    let photo = seeds().join("../images/n01531178_goldfinch.JPEG");
    let dir = std::env::temp_dir().join(format!("effnet-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, name) in [
        (
            "mmpretrain-efficientnet-b0_3rdparty_8xb32_in1k.pth",
            "mmpretrain:efficientnet-b0_3rdparty_8xb32_in1k",
        ),
        ("mindvision-efficientnet_b0.ckpt", "mindvision:efficientnet_b0"),
    ] {
        let checkpoint = seeds().join(file);
        let out = effnet(&[&"classify", &photo, &"-m", &checkpoint, &"-k", &"3", &"--json"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(&format!("({name})")), "{}", text(&out));
        let converted = dir.join(format!("{file}.safetensors"));
        let conv = effnet(&[&"convert", &checkpoint, &converted, &"--json"]);
        assert!(conv.status.success(), "{}", text(&conv));
        let again = effnet(&[&"classify", &photo, &"-m", &converted, &"-k", &"3", &"--json"]);
        assert!(text(&again).contains(&format!("({name})")), "{}", text(&again));
        let json = |o: &Output| -> serde_json::Value {
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
        };
        let (a, b) = (json(&out), json(&again));
        // Same tensors (f32 both ways), same program: the same classes and probabilities.
        assert_eq!(a["top"], b["top"], "{name}: converted file answers differently");
    }
}

/// Every mmpretrain, MindSpore Vision and mindcv name resolves, builds on its network and
/// carries the framework's preprocessing; names shared with timm need their prefix.
#[test]
fn framework_names_resolve_with_their_preprocessing() {
    let names = known_names();
    let count = |prefix: &str| names.iter().filter(|n| n.starts_with(prefix)).count();
    assert_eq!(count("mmpretrain:"), 48, "mmpretrain 1.2.0 lists 48 EfficientNets");
    for name in names.iter().filter(|n| n.starts_with("mm") || n.starts_with("mind")) {
        let arch = resolve(name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(effnet::model::qualified_name(&arch), *name);
        assert!(arch.num_classes() == 1000 || arch.num_classes() == 21843, "{name}");
    }
    assert_eq!(count("mindvision:"), 8, "MindSpore Vision has b0-b7");
    assert!(count("mindcv:") >= 8, "mindcv has b0-b7 and V2");
    let mm = resolve("mmpretrain:efficientnet-b0_3rdparty_8xb32_in1k", None).unwrap();
    assert_eq!((mm.source, mm.resolution), (Source::Mmpretrain, 224));
    let bare = resolve("efficientnet-b3_3rdparty_8xb32-aa-advprop_in1k", None).unwrap();
    assert_eq!(bare.preprocess.mean, [0.5; 3], "advprop normalises with 127.5/127.5");
    let in21k = resolve("mmpretrain:efficientnetv2-s_3rdparty_in21k", None).unwrap();
    assert_eq!(in21k.num_classes(), 21843);
    let ms = resolve("mindvision:efficientnet_b0", None).unwrap();
    assert_eq!(ms.source, Source::MindVision);
    assert_eq!(resolve("efficientnet_b0", None).unwrap().source, Source::Timm);
    let cv = resolve("mindcv:efficientnet_b0", None).unwrap();
    assert_eq!(cv.padding, effnet::model::Padding::Same, "mindcv pads like TensorFlow");
    let out = effnet(&[&"models"]);
    let listed = text(&out);
    assert!(listed.contains("mmpretrain:efficientnet-b0_3rdparty_8xb32_in1k"), "{listed}");
    assert!(listed.contains("mindvision:efficientnet_b0"), "{listed}");
}
