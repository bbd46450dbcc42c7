//! Checkpoint messages (items 3, 4 and 5 of issue 26): a damaged safetensors file blamed on
//! pickle, a bool weight reported missing, and a short storage given a false element count.

use crate::fixtures::{Spec, legacy_file, scratch, state_dict_pickle, write, zip_file};
use effnet::Model;
use effnet::checkpoint::{self, StateDict};
use std::path::Path;

fn error_of(path: &Path) -> String {
    match Model::from_file(path, None) {
        Ok(_) => panic!("{}: a broken checkpoint loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_says(text: &str, wanted: &[&str], unwanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "expected `{w}` in: {text}");
    }
    for u in unwanted {
        assert!(!text.contains(u), "did not expect `{u}` in: {text}");
    }
}

/// Item 3: a header length of 90,000,000 in a small file got "malformed pickle at byte 4".
#[test]
fn a_damaged_safetensors_length_is_a_safetensors_error() {
    let dir = scratch("msgs-st-length");
    let mut bytes = 90_000_000u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(br#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#);
    bytes.extend_from_slice(&[0; 4]);
    let after = bytes.len() - 8;
    // Told by its content, whatever its name; and by its name when the content is cut short.
    for name in ["big.safetensors", "big.bin"] {
        let text = error_of(&write(&dir, name, &bytes));
        let says = format!("header length says 90000000 bytes, but only {after} bytes follow");
        assert_says(&text, &[&says, "download it again"], &["pickle"]);
    }
    let text = error_of(&write(&dir, "cut.safetensors", &bytes[..5]));
    assert_says(
        &text,
        &["only 5 bytes", "truncated"],
        &["pickle", "not a checkpoint"],
    );
}

/// Item 4: a weight stored as BOOL was skipped silently and then reported missing.
#[test]
fn a_weight_with_an_integer_dtype_is_named_with_it() {
    let bundled = checkpoint::load_bytes(Path::new("bundled"), Model::bundled_bytes()).unwrap();
    let victim = "conv_stem.weight";
    assert!(
        bundled.tensors.contains_key(victim),
        "the bundled model lacks {victim}"
    );
    let path = scratch("msgs-bool").join("bool.safetensors");
    std::fs::write(&path, safetensors_with_bool(&bundled, victim)).unwrap();
    let text = error_of(&path);
    assert_says(
        &text,
        &[
            "1 key stored as integers or bools: conv_stem.weight is BOOL",
            "F32, F16 or BF16",
        ],
        &["missing", "another variant"],
    );
}

/// `sd` as safetensors bytes (F32, with its metadata), with `victim` stored as BOOL.
fn safetensors_with_bool(sd: &StateDict, victim: &str) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, t) in &sd.tensors {
        let (dtype, raw): (&str, Vec<u8>) = if name == victim {
            ("BOOL", t.data.iter().map(|&v| u8::from(v > 0.0)).collect())
        } else {
            ("F32", t.data.iter().flat_map(|v| v.to_le_bytes()).collect())
        };
        let offsets = [data.len(), data.len() + raw.len()];
        let entry = serde_json::json!({"dtype": dtype, "shape": t.shape, "data_offsets": offsets});
        header.insert(name.clone(), entry);
        data.extend(raw);
    }
    header.insert("__metadata__".into(), serde_json::json!(sd.metadata));
    let mut text = serde_json::Value::Object(header).to_string().into_bytes();
    // Tensor data starts 8-byte aligned, as safetensors requires: the header is padded.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(data);
    out
}

/// Item 5: a storage shorter than its tensor was said to hold the elements it declares.
#[test]
fn a_short_storage_gives_the_true_counts() {
    let dir = scratch("msgs-short");
    let spec = Spec {
        key: "w",
        storage_type: "FloatStorage",
        storage_key: "0",
        numel: 100,
        view: None,
        offset: 0,
        shape: &[100],
        stride: &[1],
    };
    let ten_floats = [0u8; 40];
    let zip = zip_file(
        "archive",
        &state_dict_pickle(&[spec], false, false),
        &[("0", &ten_floats)],
    );
    let legacy = legacy_file(
        &state_dict_pickle(&[spec], true, false),
        &[("0", 100, &ten_floats)],
    );
    for (name, bytes, wanted) in [
        (
            "short.pth",
            zip,
            "should hold 100 elements (the tensor needs 100 of them) but holds only 10 (40 bytes)",
        ),
        (
            "short-legacy.pth",
            legacy,
            "declares 100 elements but the file holds only 10 (40 bytes)",
        ),
    ] {
        let path = write(&dir, name, &bytes);
        let text = match checkpoint::load(&path) {
            Ok(_) => panic!("{name}: a short storage loaded"),
            Err(e) => e.to_string(),
        };
        assert_says(&text, &[wanted, "truncated"], &["storage of 100"]);
    }
}
