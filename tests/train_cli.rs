//! `effnet train` end to end: the transfer-learning task of ../shared/data (train split ->
//! val split, bundled Lite0 backbone), the written checkpoint through `eval` and `classify`,
//! determinism, and the bad inputs a user brings (empty or single class, unreadable images,
//! an unwritable output, a diverging run).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("effnet-train-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn effnet(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `root/CLASS/FILE` links to photos of ../shared/images.
fn tiny_folder(root: &Path, classes: &[(&str, &[&str])]) {
    for (class, files) in classes {
        let dir = root.join(class);
        std::fs::create_dir_all(&dir).unwrap();
        for f in *files {
            std::os::unix::fs::symlink(shared("images").join(f), dir.join(f)).unwrap();
        }
    }
}

const TINY: [(&str, &[&str]); 3] = [
    (
        "birds",
        &["n01531178_goldfinch.JPEG", "n01833805_hummingbird.JPEG"],
    ),
    ("fruit", &["n07747607_orange.JPEG", "n07753592_banana.JPEG"]),
    (
        "vehicles",
        &["n02690373_airliner.JPEG", "n04037443_racer.JPEG"],
    ),
];

/// The acceptance task: ImageNet photos in 7 coarse classes, 821 for training and 179 for
/// validation, with the bundled Lite0. Logistic regression on PyTorch's features of the
/// same network scores 92.7%; the target is 91%.
#[test]
fn transfer_task_reaches_the_target_and_the_checkpoint_classifies_the_same() {
    if common::gpu().is_none() {
        return;
    }
    let root = scratch("coarse");
    let tsv = std::fs::read_to_string(shared("data/transfer_coarse.tsv")).unwrap();
    for line in tsv.lines().skip(1) {
        let [file, label, split] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad row {line}")
        };
        let dir = root.join(split).join(label);
        std::fs::create_dir_all(&dir).unwrap();
        let photo = shared("data/imagenet-sample").join(file);
        std::os::unix::fs::symlink(photo, dir.join(file)).unwrap();
    }
    let (train, val, out) = (
        root.join("train"),
        root.join("val"),
        root.join("coarse.safetensors"),
    );
    let report = json(&effnet(&[
        &"train", &train, &"--val", &val, &"-o", &out, &"--json",
    ]));
    eprintln!("train: {report}");
    let val_acc = report["val_accuracy"].as_f64().unwrap();
    assert_eq!(report["val_images"], 179, "{report}");
    assert!(
        val_acc >= 0.91,
        "validation accuracy {val_acc} below the 91% target"
    );
    // The checkpoint alone (no flags) gives the same answers on the validation photos.
    let eval = json(&effnet(&[&"eval", &val, &"-m", &out, &"--json"]));
    let top1 = eval["top1"].as_f64().unwrap();
    // Same features, same head: at most one photo may flip on a near-tie between the
    // trainer's forward kernel and the classifier kernel (different summation order).
    assert!(
        (top1 - val_acc).abs() <= 1.0 / 179.0 + 1e-9,
        "eval {top1} vs train {val_acc}"
    );
}

#[test]
fn a_trained_checkpoint_is_deterministic_and_names_its_classes() {
    if common::gpu().is_none() {
        return;
    }
    let root = scratch("tiny");
    tiny_folder(&root.join("data"), &TINY);
    let (a, b) = (root.join("a.safetensors"), root.join("b.safetensors"));
    for out in [&a, &b] {
        let args: [&dyn AsRef<std::ffi::OsStr>; 9] = [
            &"train",
            &root.join("data"),
            &"-o",
            out,
            &"--res",
            &"64",
            &"--epochs",
            &"20",
            &"--json",
        ];
        let report = json(&effnet(&args));
        assert_eq!(
            report["train_accuracy"], 1.0,
            "six photos, three classes: {report}"
        );
    }
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    assert!(bytes(&a) == bytes(&b), "two runs with the same seed differ");
    let photo = shared("images/n07753592_banana.JPEG");
    let top = json(&effnet(&[
        &"classify",
        &photo,
        &"-m",
        &a,
        &"--res",
        &"64",
        &"--json",
    ]));
    assert_eq!(top["top"][0]["label"], "fruit", "{top}");
    assert_eq!(top["top"].as_array().unwrap().len(), 3, "{top}");
}

#[test]
fn bad_training_input_is_refused_clearly() {
    let root = scratch("bad");
    let out = root.join("never.safetensors");
    // One class only.
    tiny_folder(&root.join("one"), &TINY[..1]);
    let o = effnet(&[&"train", &root.join("one"), &"-o", &out]);
    assert!(
        !o.status.success() && stderr(&o).contains("at least two"),
        "{}",
        stderr(&o)
    );
    // An empty class folder.
    tiny_folder(&root.join("empty"), &TINY[..2]);
    std::fs::create_dir_all(root.join("empty/nothing")).unwrap();
    let o = effnet(&[&"train", &root.join("empty"), &"-o", &out]);
    assert!(
        !o.status.success() && stderr(&o).contains("empty class folder"),
        "{}",
        stderr(&o)
    );
    // An unwritable output, found before any work: under a file used as a folder, which no
    // machine can write whatever folders it happens to hold.
    let not_a_folder = root.join("a-file");
    std::fs::write(&not_a_folder, b"x").unwrap();
    let unwritable = not_a_folder.join("x.safetensors");
    tiny_folder(&root.join("two"), &TINY[..2]);
    let o = effnet(&[&"train", &root.join("two"), &"-o", &unwritable]);
    assert!(
        stderr(&o).contains(&format!("cannot write {}", unwritable.display())),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("session:"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn unreadable_images_are_skipped_and_a_diverging_run_writes_nothing() {
    if common::gpu().is_none() {
        return;
    }
    let root = scratch("skip");
    let data = root.join("data");
    tiny_folder(&data, &TINY);
    std::fs::write(data.join("birds/broken.jpg"), b"not a jpeg").unwrap();
    let out = root.join("m.safetensors");
    let args: [&dyn AsRef<std::ffi::OsStr>; 9] = [
        &"train",
        &data,
        &"-o",
        &out,
        &"--res",
        &"64",
        &"--epochs",
        &"3",
        &"--json",
    ];
    let report = json(&effnet(&args));
    assert_eq!(
        (report["skipped"].as_u64(), report["train_images"].as_u64()),
        (Some(1), Some(6))
    );
    assert!(out.exists());
    // A learning rate far too large: the loss overflows, the run stops, nothing is written.
    let diverged = root.join("d.safetensors");
    let args: [&dyn AsRef<std::ffi::OsStr>; 8] = [
        &"train", &data, &"-o", &diverged, &"--res", &"64", &"--lr", &"1e37",
    ];
    let o = effnet(&args);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("learning rate"), "{}", stderr(&o));
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!diverged.exists(), "a diverged run wrote {leftovers:?}");
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains("partial")),
        "{leftovers:?}"
    );
}
