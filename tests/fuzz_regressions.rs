//! Inputs the fuzz targets in `fuzz/` found crashing, kept as regression tests (see
//! fuzz/README.md). Each must give an error, not a panic. Larger inputs live as files in
//! `tests/data/fuzz/<target>-<what>`; every file there is replayed through the checkpoint loader.

use effnet::checkpoint::{self, fuzzing};
use std::path::Path;

/// Runs `f` and fails the test if it panics or accepts the input.
fn rejects<T: std::fmt::Debug>(what: &str, f: impl FnOnce() -> effnet::Result<T>) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Err(e)) => assert!(!e.to_string().is_empty()),
        Ok(Ok(v)) => panic!("{what}: accepted as {v:?}"),
        Err(_) => panic!("{what}: panicked"),
    }
}

/// `checkpoint` target: an 8-byte file whose u64 header length is smaller than the file
/// passed the safetensors test and indexed byte 8, past the end.
#[test]
fn eight_byte_file_with_small_header_length() {
    let bytes = [4, 0, 0, 0, 0, 0, 0, 0];
    rejects("8 bytes", || {
        checkpoint::load_bytes(Path::new("fuzz"), &bytes)
    });
}

/// The fuzz seeds are valid checkpoints: if they stopped loading, the fuzzer would only
/// explore error paths.
#[test]
fn fuzz_seeds_still_load() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |p: &str| std::fs::read(seeds.join(p)).unwrap();
    assert_eq!(
        fuzzing::safetensors(&read("safetensors/small.safetensors")).unwrap(),
        2
    );
    assert_eq!(fuzzing::torch_legacy(&read("pickle/small.pth")).unwrap(), 2);
    assert_eq!(fuzzing::torch_zip(&read("torch_zip/small.pt")).unwrap(), 2);
    assert_eq!(
        fuzzing::mindspore(&read("mindspore/mindvision_stem.ckpt")).unwrap(),
        5
    );
    // Of its seven entries, the optimizer copy and the step counter are left out.
    assert_eq!(
        fuzzing::mindspore(&read("mindspore/features_crc.ckpt")).unwrap(),
        4
    );
    let sniffed = checkpoint::load_bytes(Path::new("fuzz"), &read("checkpoint/small.ckpt"));
    assert_eq!(sniffed.unwrap().tensors.len(), 5);
}

#[test]
fn every_saved_crash_input_is_rejected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        rejects(&name, || checkpoint::load_bytes(&path, &bytes));
    }
}
