//! The `effnet` binary end to end: classify, features, eval, and the messages users get for
//! bad checkpoints, bad images and bad arguments (never a panic).

mod common;
#[path = "support/checkpoint_fixtures.rs"]
mod fixtures;

use effnet::checkpoint::{self, save_safetensors};
use fixtures::{Pickle, scratch, write};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

fn photo(name: &str) -> PathBuf {
    shared("images").join(name)
}

/// Runs the binary; returns (exit success, stdout, stderr) after checking it did not panic.
fn effnet(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args.iter().map(|a| a.as_ref()))
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (out.status.success(), stdout, stderr)
}

#[test]
fn classify_answers_good_images_and_names_the_corrupt_one() {
    let Some(_) = common::gpu() else { return };
    let dir = scratch("cli-corrupt");
    let jpeg = std::fs::read(photo("n07747607_orange.JPEG")).unwrap();
    let broken = write(&dir, "broken.jpg", &jpeg[..jpeg.len() / 3]);
    let good = photo("n02099601_golden_retriever.JPEG");
    let (ok, stdout, stderr) = effnet(&[&"classify", &good, &broken, &"--json", &"--top-k", &"3"]);
    assert!(!ok, "a corrupt image must make the exit code non-zero");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["top"][0]["index"], 207, "{stdout}");
    assert_eq!(lines[0]["top"][0]["label"], "golden retriever");
    assert_eq!(lines[0]["top"].as_array().unwrap().len(), 3);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("cannot decode")
    );
    assert!(
        stderr.contains("broken.jpg") && stderr.contains("cannot decode"),
        "{stderr}"
    );
}

#[test]
fn unsafe_pickle_is_refused_with_a_clear_message() {
    let dir = scratch("cli-evil");
    let mut p = Pickle::new();
    let system = (p.global("os", "system").str("touch /tmp/pwned"))
        .op(&[0x85])
        .op(b"R")
        .stop();
    let evil = write(&dir, "evil.pth", &system);
    let out = dir.join("out.safetensors");
    let (ok, _, stderr) = effnet(&[&"convert", &evil, &out]);
    assert!(!ok);
    assert!(
        stderr.contains("refusing to load") && stderr.contains("os.system"),
        "{stderr}"
    );
    let (ok, _, stderr) = effnet(&[
        &"classify",
        &photo("n07747607_orange.JPEG"),
        &"--model",
        &evil,
    ]);
    assert!(!ok && stderr.contains("os.system"), "{stderr}");
}

#[test]
fn broken_checkpoints_get_one_readable_report() {
    let dir = scratch("cli-broken");
    let timm = shared("weights/tf_efficientnet_lite0.timm.pth");
    let bytes = std::fs::read(&timm).unwrap();
    let truncated = write(&dir, "truncated.pth", &bytes[..bytes.len() / 2]);
    let (ok, _, stderr) = effnet(&[&"convert", &truncated, &dir.join("t.safetensors")]);
    assert!(
        !ok && stderr.starts_with("error: ") && stderr.contains("truncated.pth"),
        "{stderr}"
    );

    // One tensor missing and one mis-shaped: both are in the same report.
    let mut sd = checkpoint::load(&timm).unwrap();
    sd.tensors.remove("conv_head.weight").unwrap();
    let bias = sd.tensors.get_mut("classifier.bias").unwrap();
    bias.shape = vec![500];
    bias.data.truncate(500);
    let damaged = dir.join("damaged_tf_efficientnet_lite0.safetensors");
    save_safetensors(&damaged, &sd, &BTreeMap::new(), false).unwrap();
    let (ok, _, stderr) = effnet(&[&"convert", &damaged, &dir.join("d.safetensors")]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("missing: conv_head.weight"), "{stderr}");
    assert!(stderr.contains("classifier.bias"), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "one report: {stderr}");
}

#[test]
fn bad_arguments_fail_cleanly() {
    let dir = scratch("cli-args");
    let img = photo("n07747607_orange.JPEG");
    let empty = write(&dir, "empty.pth", b"");
    let (missing, out) = (dir.join("missing"), dir.join("x.safetensors"));
    let cases: Vec<(Vec<&dyn AsRef<std::ffi::OsStr>>, &str)> = vec![
        (vec![&"classify"], "IMAGE"),
        (
            vec![&"classify", &img, &"--model", &"no/such/file.pth"],
            "no such file",
        ),
        (
            vec![&"classify", &img, &"--model", &"efficientnet_b99"],
            "unknown model",
        ),
        (vec![&"classify", &img, &"--model", &empty], "empty.pth"),
        (vec![&"classify", &img, &"--batch", &"0"], "at least 1"),
        (
            vec![&"classify", &img, &"--precision", &"f8"],
            "possible values: f32, f16",
        ),
        (vec![&"features", &img], "--out"),
        (vec![&"eval", &dir], "no images"),
        (vec![&"eval", &missing], "cannot read"),
        (vec![&"convert", &img, &out], "not a checkpoint"),
    ];
    for (args, expected) in cases {
        let (ok, _, stderr) = effnet(&args);
        assert!(
            !ok && stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
    }
}

#[test]
fn features_saves_embeddings_and_stages() {
    let Some(_) = common::gpu() else { return };
    let dir = scratch("cli-features");
    let out = dir.join("f.safetensors");
    let imgs = [
        photo("n07747607_orange.JPEG"),
        photo("n01531178_goldfinch.JPEG"),
    ];
    let (ok, _, stderr) = effnet(&[&"features", &imgs[0], &imgs[1], &"--out", &out, &"--stages"]);
    assert!(ok, "{stderr}");
    let sd = checkpoint::load(&out).unwrap();
    assert_eq!(sd.tensors["embeddings"].shape, vec![2, 1280]);
    assert_eq!(sd.tensors["head"].shape, vec![2, 1280, 7, 7]);
    assert_eq!(sd.tensors["stem"].shape, vec![2, 32, 112, 112]);
    let files: Vec<String> = serde_json::from_str(&sd.metadata["effnet.files"]).unwrap();
    assert_eq!(files.len(), 2);
    // The embedding is the mean of the head map over its 7×7 positions.
    let head = &sd.tensors["head"].data;
    let mean = head[..49].iter().sum::<f32>() / 49.0;
    assert!((sd.tensors["embeddings"].data[0] - mean).abs() <= 1e-5 * mean.abs().max(1.0));
}

#[test]
fn eval_over_an_image_folder_reports_accuracy_and_speed() {
    let Some(_) = common::gpu() else { return };
    let root = scratch("cli-eval").join("imagefolder");
    let _ = std::fs::remove_dir_all(&root);
    for entry in std::fs::read_dir(shared("images")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let wnid = name.split('_').next().unwrap();
        std::fs::create_dir_all(root.join(wnid)).unwrap();
        std::os::unix::fs::symlink(&path, root.join(wnid).join(&name)).unwrap();
    }
    let (ok, stdout, stderr) = effnet(&[&"eval", &root, &"--batch", &"8", &"--json"]);
    assert!(ok, "{stderr}");
    let r: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    eprintln!("eval: {r}");
    assert_eq!(r["images"], 16);
    // The reference itself gets 14 of 16 top-1 right (tabby -> Egyptian cat, tree frog ->
    // tailed frog) and all 16 within its top 5.
    assert!(r["top1"].as_f64().unwrap() >= 13.0 / 16.0, "{r}");
    assert_eq!(r["top5"].as_f64().unwrap(), 1.0, "{r}");
    assert!(r["images_per_s"].as_f64().unwrap() > 0.0);
}
