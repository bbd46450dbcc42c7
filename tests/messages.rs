//! Messages that must say what really happened (issue 26): each test reproduces a case that
//! printed a wrong or wrapped number, a wrong cause, or advice nobody could follow. None needs
//! a GPU: every case fails before a model runs. Checkpoint cases are in messages/checkpoints.rs.

#[path = "messages/checkpoints.rs"]
mod checkpoints;
#[path = "support/checkpoint_fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A fresh scratch folder for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("effnet-msgs-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `effnet args`, killed after a minute: a regression that reads `/dev/zero` or opens a
/// FIFO would otherwise hang the suite instead of failing it.
fn effnet(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{args:?} still ran after 60 s", args = shown(args));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "{:?} panicked: {stderr}",
        shown(args)
    );
    (status.code(), stderr)
}

fn shown(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<String> {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect()
}

/// Checks the exit code and that stderr holds every `wanted` and none of `unwanted`.
fn expect(args: &[&dyn AsRef<std::ffi::OsStr>], code: i32, wanted: &[&str], unwanted: &[&str]) {
    let (got, stderr) = effnet(args);
    let args = shown(args);
    assert_eq!(
        got,
        Some(code),
        "{args:?}: expected exit {code}, got {got:?}: {stderr}"
    );
    for w in wanted {
        assert!(stderr.contains(w), "{args:?}: expected `{w}` in: {stderr}");
    }
    for u in unwanted {
        assert!(
            !stderr.contains(u),
            "{args:?}: did not expect `{u}` in: {stderr}"
        );
    }
}

/// Item 1: `info --res 4294967295` printed a stem of 0.0 MMACs (a wrapped count).
#[test]
fn info_refuses_resolutions_whose_counts_overflow() {
    let (code, stderr) = effnet(&[&"info", &"tf_efficientnet_b0", &"--res", &"4294967295"]);
    assert_eq!(code, Some(1), "expected exit 1, got {code:?}: {stderr}");
    let largest: usize = stderr
        .split("can be counted at this batch is ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("expected the largest resolution in: {stderr}"));
    let arch = effnet::model::resolve("tf_efficientnet_b0", None).unwrap();
    let at = |r| effnet::model::try_info(&arch, r, r, 1);
    let fits = at(largest).unwrap_or_else(|e| panic!("{largest} was named but fails: {e}"));
    assert!(at(largest + 1).is_err(), "{} also fits", largest + 1);
    // Counts grow with the input: a count smaller than at 224 would be a wrapped one.
    let small = at(224).unwrap();
    assert!(
        fits.macs > small.macs && fits.stages[0].macs > small.stages[0].macs,
        "MACs at {largest}: {} (stem {}), at 224: {}",
        fits.macs,
        fits.stages[0].macs,
        small.macs
    );
    // The unchecked summary saturates rather than wraps.
    let saturated = effnet::model::info(&arch, 4294967295, 4294967295, 1);
    assert_eq!(
        saturated.stages[0].macs,
        u64::MAX,
        "stem MACs at 4294967295"
    );
}

/// Item 2: a folder, a device, a FIFO and a symlink loop all said "no such file".
#[test]
fn model_paths_say_what_they_are() {
    let dir = scratch("paths");
    let fifo = dir.join("pipe.pth");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo {} failed", fifo.display());
    let (a, b) = (dir.join("a.pth"), dir.join("b.pth"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let dangling = dir.join("dangling.pth");
    std::os::unix::fs::symlink(dir.join("gone.pth"), &dangling).unwrap();
    let zero = Path::new("/dev/zero");
    let cases: [(&Path, &str); 6] = [
        (&dir, "is a folder; give a checkpoint file"),
        (zero, "is not a regular file"),
        (&fifo, "is not a regular file"),
        (&a, "symbolic link that cannot be followed"),
        (&dangling, "symbolic link to a file that does not exist"),
        (&dir.join("missing.pth"), "no such file"),
    ];
    for (path, wanted) in cases {
        expect(&[&"info", &path], 1, &[wanted], &[]);
        if !wanted.contains("no such file") {
            expect(
                &[&"classify", &"x.jpg", &"-m", &path],
                1,
                &[wanted],
                &["no such file"],
            );
        }
    }
    // The library refuses folders and devices too, and never reads them.
    for path in [dir.as_path(), zero, fifo.as_path()] {
        let e = effnet::Model::from_file(path, None)
            .err()
            .map(|e| e.to_string());
        let text = e.unwrap_or_else(|| panic!("{} loaded", path.display()));
        assert!(
            text.contains("is a folder") || text.contains("not a regular file"),
            "{}: {text}",
            path.display()
        );
    }
}

/// Item 6: the size error advised raising a limit that the command line cannot raise.
#[test]
fn an_image_too_large_names_the_limit_and_what_works() {
    // A real 1x1 PNG whose IHDR is made to claim 100000x100000: the header is enough.
    let mut png = Vec::new();
    let tiny = effnet::image::RgbImage::new(1, 1);
    tiny.write_to(
        &mut std::io::Cursor::new(&mut png),
        effnet::image::ImageFormat::Png,
    )
    .unwrap();
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let limits = effnet::preprocess::ImageLimits::default();
    let e = effnet::preprocess::decode_image(&png, &limits).unwrap_err();
    let text = e.to_string();
    for wanted in [
        "ImageLimits::max_pixels = 100000000 pixels",
        "-resize",
        "the command line has no option",
    ] {
        assert!(text.contains(wanted), "expected `{wanted}` in: {text}");
    }
}

/// Items 7, 8, 9 and 11: zero counts got absurd ranges, a wrong cause or silent changes.
#[test]
fn zero_counts_are_refused_by_their_flag() {
    let dir = scratch("zeros");
    let out = dir.join("o.safetensors");
    let cases: [(&[&str], &str); 10] = [
        (
            &["classify", "x.jpg", "-k", "0"],
            "-k/--top-k must be at least 1",
        ),
        (
            &["classify", "x.jpg", "--batch", "0"],
            "--batch must be at least 1",
        ),
        (
            &["classify", "x.jpg", "--res", "0"],
            "--res must be at least 1",
        ),
        (
            &["classify", "x.jpg", "-b", "x"],
            "whole number of at least 1, not `x`",
        ),
        (&["eval", "x", "--limit", "0"], "--limit must be at least 1"),
        (&["bench", "--iters", "0"], "--iters must be at least 1"),
        (&["bench", "--batch", "0"], "--batch must be at least 1"),
        (&["tune", "--runs", "0"], "--runs must be at least 1"),
        (
            &["train", "x", "-o", "o", "--epochs", "0"],
            "--epochs must be at least 1",
        ),
        (
            &["train", "x", "-o", "o", "-b", "0"],
            "--batch must be at least 1",
        ),
    ];
    for (args, wanted) in cases {
        let args: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a as _).collect();
        expect(&args, 2, &[wanted], &["18446744073709551615", "no images"]);
    }
    // Values the flags parse but training refuses are named by flag, not by field.
    for (flag, value, wanted) in [
        ("--lr", "0", "--lr must be a positive learning rate"),
        ("--weight-decay", "-1", "--weight-decay must be 0 or more"),
        (
            "--label-smoothing",
            "1",
            "--label-smoothing must be at least 0 and below 1",
        ),
    ] {
        let value = format!("{flag}={value}");
        expect(
            &[&"train", &dir, &"-o", &out, &value],
            1,
            &[wanted],
            &["TrainOptions"],
        );
    }
}

/// Item 11, the library's side: its messages name each option in words and by field.
#[test]
fn train_option_errors_use_plain_words() {
    use effnet::train::{TrainOptions, check_options};
    let o = TrainOptions::default();
    for (options, wanted) in [
        (
            TrainOptions { epochs: 0, ..o },
            "the number of epochs (`epochs`) is 0",
        ),
        (
            TrainOptions { batch: 0, ..o },
            "the mini-batch size (`batch`) is 0",
        ),
        (
            TrainOptions { lr: -1.0, ..o },
            "the learning rate (`lr`) is -1",
        ),
    ] {
        let text = check_options(&options).unwrap_err().to_string();
        assert!(text.contains(wanted), "expected `{wanted}` in: {text}");
        assert!(!text.contains("TrainOptions:"), "internal name in: {text}");
    }
}

/// Item 10: a validation split that holds out nothing gave `val_images 0` without a word.
#[test]
fn an_empty_validation_split_is_warned_about() {
    let dir = scratch("split");
    for (name, per_class) in [("single", 1), ("pairs", 2)] {
        let data = dir.join(name);
        for class in ["cat", "dog"] {
            std::fs::create_dir_all(data.join(class)).unwrap();
            for i in 0..per_class {
                std::fs::write(data.join(class).join(format!("{i}.jpg")), b"not read").unwrap();
            }
        }
        // A missing backbone stops the run right after the split, before any GPU work.
        let missing = dir.join("missing.safetensors");
        let out = dir.join("out.safetensors");
        let args: [&dyn AsRef<std::ffi::OsStr>; 7] = [
            &"train",
            &data,
            &"-o",
            &out,
            &"--val-split=0.5",
            &"-m",
            &missing,
        ];
        let warning = "--val-split 0.5 leaves no validation images";
        if per_class == 1 {
            expect(&args, 1, &[warning, "--val", "no such file"], &[]);
        } else {
            expect(&args, 1, &["no such file"], &[warning]);
        }
    }
}

/// Item 12: a trailing blank line in a labels file counted as a class.
#[test]
fn trailing_blank_lines_are_not_classes() {
    let dir = scratch("labels");
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let read = |p: &Path| effnet::model::hub::read_labels(p).unwrap();
    let trailing = file("trailing.txt", "cat\r\ndog\r\n\r\n\n");
    assert_eq!(read(&trailing), ["cat", "dog"], "trailing blank lines");
    // A blank line in the middle stays a class, so later indices do not shift.
    let middle = file("middle.txt", "cat\n\ndog\n\n");
    assert_eq!(
        read(&middle),
        ["cat", "", "dog"],
        "a blank line in the middle"
    );
    expect(
        &[&"classify", &"x.jpg", &"--labels", &middle],
        1,
        &[
            "3 class names, 1 of them blank lines,",
            "1000 classes",
            "blank line in the middle",
        ],
        &[],
    );
}

/// An unknown kernel family is an error naming the three there are: from the flag a usage
/// error (exit 2, clap lists the values), from EFFNET_KERNELS an error before any work.
#[test]
fn an_unknown_kernel_family_names_the_three() {
    let wanted = ["gpux", "gpu", "cpu", "auto"];
    expect(
        &[&"--kernels", &"gpux", &"classify", &"x.jpg"],
        2,
        &wanted,
        &[],
    );
    let photo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/images/n02099601_golden_retriever.JPEG"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
        .args(["classify", photo, "--res", "32"])
        .env("EFFNET_KERNELS", "gpux")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for w in wanted.iter().chain(&["EFFNET_KERNELS"]) {
        assert!(stderr.contains(w), "no {w:?} in: {stderr}");
    }
    assert!(out.stdout.is_empty(), "no answers: {stderr}");
}
