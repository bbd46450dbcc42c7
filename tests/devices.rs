//! `--device` with several adapters: `0,0` (two sessions on adapter 0) answers as `0` does, in
//! input order, for classify and features; `all` runs and says how many adapters it found;
//! a bad value or a list for a one-device command is a usage error naming the forms.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The 16 photos of `../shared/images`, in reverse name order, so that input order is not
/// the order a sort would give.
fn photos() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/images");
    let mut files: Vec<PathBuf> = (std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.reverse();
    assert_eq!(files.len(), 16, "../shared/images should hold 16 photos");
    files
}

/// Runs the binary; checks that it did not panic.
fn effnet(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args.iter().map(|a| a.as_ref()))
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `classify --json` of `files` at 32×32 (fast on a software driver), 2 per batch (8
/// batches to share out), with `--device devices`.
fn classify(devices: &str, files: &[PathBuf]) -> Output {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--device", &devices, &"classify"];
    args.extend(files.iter().map(|f| f as &dyn AsRef<std::ffi::OsStr>));
    args.extend([&"--json", &"--res", &"32", &"-b", &"2"] as [&dyn AsRef<std::ffi::OsStr>; 5]);
    let out = effnet(&args);
    assert!(out.status.success(), "--device {devices}: {}", stderr(&out));
    out
}

#[test]
fn device_0_0_classifies_as_device_0_in_input_order() {
    if common::gpu().is_none() {
        return;
    }
    let files = photos();
    let one = classify("0", &files);
    let two = classify("0,0", &files);
    let lines: Vec<serde_json::Value> = (String::from_utf8_lossy(&two.stdout).lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let named: Vec<PathBuf> = lines
        .iter()
        .map(|l| l["file"].as_str().unwrap().into())
        .collect();
    assert_eq!(named, files, "one answer per photo, in input order");
    // Same adapter, kernels and batches: the same bits, whichever session ran a batch.
    assert_eq!(
        String::from_utf8_lossy(&two.stdout),
        String::from_utf8_lossy(&one.stdout)
    );
    let err = stderr(&two);
    assert!(err.contains("(2 sessions)"), "{err}");
    let shares = err
        .lines()
        .find_map(|l| l.strip_prefix("batches per device (in --device order): "));
    let shares = shares.unwrap_or_else(|| panic!("no batch counts: {err}"));
    let total: usize = shares
        .split(", ")
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, 8, "16 photos in batches of 2: {err}");
}

#[test]
fn device_0_0_writes_the_features_of_device_0() {
    if common::gpu().is_none() {
        return;
    }
    let files = &photos()[..5];
    let dir = std::env::temp_dir().join(format!("effnet-devices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |devices: &str| {
        let out_file = dir.join(format!("{}.safetensors", devices.replace(',', "-")));
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"--device", &devices, &"features", &"-o", &out_file];
        args.extend(files.iter().map(|f| f as &dyn AsRef<std::ffi::OsStr>));
        args.extend([&"--res", &"32", &"-b", &"2"] as [&dyn AsRef<std::ffi::OsStr>; 4]);
        let out = effnet(&args);
        assert!(out.status.success(), "--device {devices}: {}", stderr(&out));
        std::fs::read(&out_file).unwrap()
    };
    // Rows, file list and metadata alike: the same file byte for byte.
    assert!(
        write("0,0") == write("0"),
        "features differ between --device 0,0 and 0"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn device_all_runs_and_says_how_many_adapters_it_found() {
    if common::gpu().is_none() {
        return;
    }
    let listed = effnet(&[&"devices", &"--json"]);
    let in_all = (String::from_utf8_lossy(&listed.stdout).lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|row| row["in_device_all"] == true)
        .count();
    assert!(in_all >= 1, "{}", String::from_utf8_lossy(&listed.stdout));
    let files = &photos()[..3];
    let out = classify("all", files);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    let err = stderr(&out);
    let said = match in_all {
        1 => "--device all found only one adapter to run on".to_string(),
        n => format!("--device all runs on {n} adapters"),
    };
    assert!(err.contains(&said), "expected `{said}` in: {err}");
}

#[test]
fn a_bad_device_is_a_usage_error_naming_the_forms() {
    let photo = &photos()[0];
    for bad in ["x", "0,", "-1", "all,0"] {
        // `=`: clap would take a bare `-1` for a flag.
        let out = effnet(&[&format!("--device={bad}"), &"classify", photo]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--device {bad}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(err.contains("N,M,...") && err.contains("`all`"), "{err}");
    }
    // One-device commands refuse a list before any work.
    for command in [
        &["bench"][..],
        &["tune", "--dry-run"],
        &["info", "tf_efficientnet_b0"],
    ] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--device", &"0,1"];
        args.extend(command.iter().map(|c| c as &dyn AsRef<std::ffi::OsStr>));
        let out = effnet(&args);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("runs on one: give"),
            "{}",
            stderr(&out)
        );
    }
}
