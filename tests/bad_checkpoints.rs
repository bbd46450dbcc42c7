//! Bad checkpoints through the public `Model::from_file` path: each kind gives its own error
//! variant and a message that says what to do, never a panic, code execution or a huge
//! allocation. (tests/checkpoint.rs covers the readers themselves in more depth.)

#[path = "support/checkpoint_fixtures.rs"]
mod fixtures;

use effnet::checkpoint::{StateDict, Tensor, save_safetensors};
use effnet::{Error, Model};
use fixtures::*;
use std::collections::BTreeMap;
use std::path::Path;

fn load(path: &Path, name: Option<&str>) -> Error {
    match std::panic::catch_unwind(|| Model::from_file(path, name)) {
        Ok(Err(e)) => e,
        Ok(Ok(_)) => panic!("{}: a bad checkpoint loaded", path.display()),
        Err(_) => panic!("{}: Model::from_file panicked", path.display()),
    }
}

fn assert_message(e: &Error, needles: &[&str]) {
    let text = e.to_string();
    for n in needles {
        assert!(text.contains(n), "message lacks `{n}`: {text}");
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let e = load(Path::new("/nonexistent/effnet.pth"), None);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert_message(&e, &["/nonexistent/effnet.pth", "cannot read"]);
}

#[test]
fn an_html_page_or_empty_file_is_not_a_checkpoint() {
    let dir = scratch("bad-html");
    for (name, bytes) in [
        ("page.pth", &b"<!DOCTYPE html><html>404</html>"[..]),
        ("empty.pth", &b""[..]),
    ] {
        let e = load(&write(&dir, name, bytes), None);
        assert!(matches!(e, Error::BadFile { .. }), "{e:?}");
        assert_message(&e, &[name, "download it again"]);
    }
}

#[test]
fn a_pickle_asking_for_code_is_refused_and_never_run() {
    let dir = scratch("bad-evil");
    let marker = dir.join("pwned");
    let mut p = Pickle::new();
    let cmd = format!("touch {}", marker.display());
    let evil = p
        .global("os", "system")
        .str(&cmd)
        .op(&[0x85])
        .op(b"R")
        .stop();
    let e = load(&write(&dir, "evil.pth", &zip_file("x", &evil, &[])), None);
    assert!(matches!(e, Error::UnsafePickle { .. }), "{e:?}");
    assert_message(&e, &["os.system", "safetensors"]);
    assert!(!marker.exists(), "the pickle's command ran");
}

/// A safetensors header that claims 2^40 f32 elements in a 100-byte file.
#[test]
fn sizes_larger_than_the_file_are_rejected_before_allocating() {
    let header =
        r#"{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,4398046511104]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 16]);
    let e = load(
        &write(&scratch("bad-huge"), "huge.safetensors", &bytes),
        None,
    );
    assert!(matches!(e, Error::BadFile { .. }), "{e:?}");
}

#[test]
fn truncated_safetensors_are_rejected() {
    let dir = scratch("bad-trunc");
    let mut sd = StateDict::default();
    let t = Tensor {
        shape: vec![4, 4],
        data: vec![1.0; 16],
    };
    sd.tensors.insert("w".into(), t);
    let full = dir.join("full.safetensors");
    save_safetensors(&full, &sd, &BTreeMap::new(), false).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    // Cuts inside the length prefix, the JSON header and the tensor data.
    for cut in [3, 12, bytes.len() - 10, bytes.len() - 1] {
        let e = load(&write(&dir, "cut.safetensors", &bytes[..cut]), None);
        assert!(matches!(e, Error::BadFile { .. }), "cut at {cut}: {e:?}");
    }
}

#[test]
fn tensors_that_do_not_fit_the_model_are_reported_together() {
    let dir = scratch("bad-fit");
    let mut sd = StateDict::default();
    let odd = Tensor {
        shape: vec![2],
        data: vec![0.0; 2],
    };
    sd.tensors.insert("not_a_layer.weight".into(), odd);
    let path = dir.join("stray.safetensors");
    save_safetensors(&path, &sd, &BTreeMap::new(), false).unwrap();
    let e = load(&path, Some("tf_efficientnet_lite0"));
    assert!(matches!(e, Error::Weights { .. }), "{e:?}");
    assert_message(
        &e,
        &[
            // Counted, the first few listed, never hundreds of lines.
            "keys missing: conv_stem.weight",
            "1 key unexpected: not_a_layer.weight",
            "and 2",
        ],
    );
}

#[test]
fn an_unknown_variant_name_lists_the_known_ones() {
    let dir = scratch("bad-name");
    let mut meta = BTreeMap::new();
    meta.insert("effnet.variant".to_string(), "efficientnet_b99".to_string());
    let path = dir.join("meta.safetensors");
    save_safetensors(&path, &StateDict::default(), &meta, false).unwrap();
    let e = load(&path, None);
    assert!(matches!(e, Error::UnknownModel { .. }), "{e:?}");
    assert_message(&e, &["efficientnet_b99", "tf_efficientnet_b0"]);
}
