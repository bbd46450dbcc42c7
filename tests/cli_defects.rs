//! Defects users hit on the command line, each reproduced: aborts on absurd sizes, panics on a
//! closed pipe, a session compiled per leftover batch, batches beyond the device, output paths
//! found unwritable only after the work, start-up counted as throughput, and bad values.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/images")
        .join(name)
}

fn effnet(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn absurd_resolutions_are_refused_before_any_allocation() {
    if common::gpu().is_none() {
        return;
    }
    let img = photo("n07747607_orange.JPEG");
    let img = img.to_str().unwrap();
    for cmd in [
        vec!["classify", img, "--res", "100000"],
        vec![
            "features",
            img,
            "--res",
            "100000",
            "-o",
            "/tmp/effnet-never.safetensors",
        ],
    ] {
        let out = effnet(&cmd);
        // Before: "memory allocation of 30000000000 bytes failed", abort (134).
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("at most"), "{}", stderr(&out));
    }
}

/// `effnet ... | head -1`: the reader goes away after one line.
#[test]
fn a_closed_stdout_ends_quietly() {
    let img = photo("n07747607_orange.JPEG");
    let img = img.to_str().unwrap();
    let many = [img; 12];
    let classify: Vec<&str> = ["classify", "--json", "-b", "1", "--res", "32"]
        .into_iter()
        .chain(many)
        .collect();
    let commands: Vec<Vec<&str>> =
        vec![vec!["models"], vec!["info", "tf_efficientnet_b0"], classify];
    for args in commands {
        if args[0] == "classify" && common::gpu().is_none() {
            continue;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_effnet"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        // stdout is dropped here: the next write meets a closed pipe.
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
    }
}

/// Nine images (one unreadable) at batch 8: one session, padded, not one per batch size.
#[test]
fn a_short_or_damaged_batch_reuses_the_session() {
    if common::gpu().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("effnet-nine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = std::fs::read_dir(photo("")).unwrap();
    let mut files: Vec<String> = names
        .map(|e| e.unwrap().path().display().to_string())
        .take(8)
        .collect();
    files.sort();
    let bad = dir.join("bad.jpg");
    std::fs::write(&bad, b"not a jpeg").unwrap();
    files.insert(3, bad.display().to_string());
    let mut args = vec!["classify", "--json", "--res", "64", "-b", "8"];
    args.extend(files.iter().map(String::as_str));
    let batched = effnet(&args);
    assert_eq!(
        stderr(&batched).matches("session:").count(),
        1,
        "{}",
        stderr(&batched)
    );
    // Padding must not change any answer: the same top-5 one image at a time.
    args[5] = "1";
    let single = effnet(&args);
    let tops = |o: &Output| -> Vec<String> {
        (String::from_utf8_lossy(&o.stdout).lines())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["top"].to_string() + &v["error"].to_string()
            })
            .collect()
    };
    assert_eq!(tops(&batched).len(), 9);
    assert_eq!(tops(&batched), tops(&single));
}

/// A batch beyond the device's buffer limit runs as several that fit, with one line saying so.
#[test]
fn a_batch_beyond_the_device_is_split() {
    let Some(gpu) = common::gpu() else { return };
    // Lite0's largest tensor is 96 channels at half resolution: 96 r^2 bytes per image in f32.
    let limit = effnet::runtime::guard::tensor_limit(&gpu.limits) as f64;
    // 0.85: one image takes ~0.72 of the limit, so two do not fit but one does.
    let res = ((limit / 96.0).sqrt() * 0.85) as usize;
    if res > 1400 {
        return; // a device this large takes too long to fill on a software driver
    }
    let res = res.to_string();
    let (a, b) = (
        photo("n07747607_orange.JPEG"),
        photo("n07753592_banana.JPEG"),
    );
    let args = [
        "classify",
        "-m",
        "tf_efficientnet_lite0",
        "--res",
        &res,
        "-b",
        "2",
    ];
    let out = effnet(&[&args[..], &[a.to_str().unwrap(), b.to_str().unwrap()]].concat());
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("running batches of 1"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches(".JPEG")
            .count(),
        2
    );
}

#[test]
fn unwritable_outputs_are_refused_before_the_work() {
    let img = photo("n07747607_orange.JPEG");
    // Unwritable by construction, whatever the machine holds: a file used as a folder.
    let dir = std::env::temp_dir().join(format!("effnet-unwritable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (f, c) = (file.join("f.safetensors"), file.join("c.safetensors"));
    let (f, c) = (f.to_str().unwrap(), c.to_str().unwrap());
    let out = effnet(&["features", img.to_str().unwrap(), "-o", f]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&format!("cannot write {f}")), "{err}");
    assert!(!err.contains("session:"), "the model ran first: {err}");
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/models/tf_efficientnet_lite0.f16.safetensors");
    let out = effnet(&["convert", weights.to_str().unwrap(), c]);
    assert!(
        stderr(&out).contains(&format!("cannot write {c}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn eval_reports_start_up_apart_from_throughput() {
    if common::gpu().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("effnet-evalfolder-{}", std::process::id()));
    let class = dir.join("n07747607");
    std::fs::create_dir_all(&class).unwrap();
    std::fs::copy(photo("n07747607_orange.JPEG"), class.join("a.JPEG")).unwrap();
    let out = effnet(&["eval", dir.to_str().unwrap(), "--json", "--res", "64"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["startup_s"].as_f64().unwrap() > 0.0, "{json}");
    assert!(json["images_per_s"].as_f64().unwrap() > 0.0, "{json}");
    assert_eq!(json["resolution"], 64, "{json}");
}

#[test]
fn bad_values_exit_2_like_every_usage_error() {
    let img = photo("n07747607_orange.JPEG");
    let img = img.to_str().unwrap();
    for args in [
        vec!["classify", img, "--top-k", "0"],
        vec!["classify", img, "--precision", "f64"],
        vec!["bench", "--precision", "f64"],
    ] {
        let out = effnet(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn devices_are_listed_and_picked_by_number() {
    if common::gpu().is_none() {
        return;
    }
    let out = effnet(&["devices", "--json"]);
    let listed = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(out.status.success() && listed >= 1, "{}", stderr(&out));
    let img = photo("n07747607_orange.JPEG");
    let out = effnet(&["--device", "99", "classify", img.to_str().unwrap()]);
    assert!(!out.status.success(), "adapter 99 does not exist");
    assert!(stderr(&out).contains("effnet devices"), "{}", stderr(&out));
}

#[test]
fn a_dash_reads_one_image_from_stdin() {
    if common::gpu().is_none() {
        return;
    }
    let img = photo("n07753592_banana.JPEG");
    let from_file = effnet(&["classify", img.to_str().unwrap(), "--json", "--res", "64"]);
    let piped = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(["classify", "-", "--json", "--res", "64"])
        .stdin(std::fs::File::open(&img).unwrap())
        .output()
        .unwrap();
    let top = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["top"].clone()
    };
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(top(&piped), top(&from_file));
    // Scripts get the model, the resolution and ImageNet's WordNet ids with each answer.
    let v: serde_json::Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert!(v["model"].as_str().unwrap().contains("bundled"), "{v}");
    assert_eq!(v["resolution"], 64, "{v}");
    assert!(
        v["top"][0]["wnid"].as_str().unwrap().starts_with('n'),
        "{v}"
    );
}

#[test]
fn a_mistyped_model_name_gets_a_suggestion() {
    let out = effnet(&["info", "efficientnet-b9"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("did you mean 'efficientnet_b0'"),
        "{}",
        stderr(&out)
    );
}
