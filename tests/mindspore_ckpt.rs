//! MindSpore `.ckpt` import: the real mindvision EfficientNet-B0 file loads with its own keys,
//! hand-built files cover what MindSpore's writer can produce (packed or unpacked dims, split
//! tensors, half floats, optimizer state, the CRC trailer), and damaged, encrypted or hostile
//! files give errors that say what to do, never a panic or a huge allocation.

#[path = "support/ckpt_writer.rs"]
mod ckpt_writer;

use std::path::{Path, PathBuf};

use ckpt_writer::*;
use effnet::checkpoint::{self, StateDict, fuzzing};

const FIXTURE: &str = "mindvision-efficientnet_b0.ckpt";

/// The repository is cloned with `shared/` beside it; a worktree elsewhere can point
/// `EFFNET_SHARED_DIR` at that folder instead.
fn fixture() -> PathBuf {
    let rel = Path::new("seed-checkpoints").join(FIXTURE);
    let beside = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")).join(&rel);
    if beside.exists() {
        return beside;
    }
    let from_env = std::env::var_os("EFFNET_SHARED_DIR").map(|d| PathBuf::from(d).join(&rel));
    if let Some(p) = from_env.filter(|p| p.exists()) {
        return p;
    }
    panic!(
        "{} is missing: clone the repository with `shared/` beside it or set EFFNET_SHARED_DIR",
        beside.display()
    );
}

fn load(bytes: &[u8]) -> StateDict {
    checkpoint::load_bytes(Path::new("test.ckpt"), bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// The error for `bytes` named `name`, failing the test on a panic or a successful load.
fn error(name: &str, bytes: &[u8]) -> String {
    let run = || checkpoint::load_bytes(Path::new(name), bytes);
    match std::panic::catch_unwind(run) {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(sd)) => panic!("{name}: loaded {:?}", sd.tensors.keys().collect::<Vec<_>>()),
        Err(_) => panic!("{name}: panicked"),
    }
}

fn assert_says(what: &str, got: &str, expected: &[&str]) {
    for e in expected {
        assert!(
            got.contains(e),
            "{what}: expected the message to contain {e:?}, got: {got}"
        );
    }
}

#[test]
fn the_mindvision_fixture_loads_with_its_own_keys() {
    let path = fixture();
    let sd = checkpoint::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sd.tensors.len(), 311);
    let stem = &sd.tensors["backbone.features.0.features.0.weight"];
    assert_eq!(stem.shape, [32, 3, 3, 3]);
    // The first float of the file, read straight from its bytes (offset 0x41).
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(
        stem.data[0],
        f32::from_le_bytes(raw[0x41..0x45].try_into().unwrap())
    );
    assert_eq!(sd.tensors["head.dense.weight"].shape, [1000, 1280]);
    assert_eq!(sd.tensors["head.dense.bias"].shape, [1000]);
    for suffix in ["gamma", "beta", "moving_mean", "moving_variance"] {
        let key = format!("backbone.features.0.features.1.{suffix}");
        assert_eq!(sd.tensors[&key].shape, [32], "{key}");
    }
    assert!(sd.metadata.is_empty());
    // Content alone identifies it, whatever the name.
    assert_eq!(
        checkpoint::load_bytes(Path::new("weights.bin"), &raw).unwrap(),
        sd
    );
}

#[test]
fn packed_and_unpacked_dims_read_the_same() {
    let values = [1.0f32, -2.0, 3.5, 0.25, 8.0, -0.125];
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    for packed in [false, true] {
        let sd = load(&entry("w", &[2, 3], packed, "Float32", &bytes));
        assert_eq!(sd.tensors["w"].shape, [2, 3], "packed: {packed}");
        assert_eq!(sd.tensors["w"].data, values, "packed: {packed}");
    }
}

/// MindSpore writes a tensor over 512 MiB as consecutive Values with the same tag, each with
/// the full dims and a slice of the bytes.
#[test]
fn split_tensors_are_joined() {
    let values: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = [
        entry("big", &[3, 4], false, "Float32", &bytes[..20]),
        entry("big", &[3, 4], false, "Float32", &bytes[20..36]),
        entry("big", &[3, 4], false, "Float32", &bytes[36..]),
        f32_entry("after", &[1], &[7.0]),
    ]
    .concat();
    let sd = load(&file);
    assert_eq!(sd.tensors["big"].shape, [3, 4]);
    assert_eq!(sd.tensors["big"].data, values);
    assert_eq!(sd.tensors["after"].data, [7.0]);

    let short = [
        entry("big", &[3, 4], false, "Float32", &bytes[..20]),
        entry("big", &[3, 4], false, "Float32", &bytes[20..44]),
    ]
    .concat();
    assert_says(
        "split, one slice short",
        &error("short.ckpt", &short),
        &["`big`", "needs 48 bytes", "holds 44"],
    );
}

#[test]
fn half_bfloat_and_double_become_f32() {
    let values = [1.5f32, -0.75, 1024.0];
    let f16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    let bf16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
        .collect();
    let f64: Vec<u8> = values
        .iter()
        .flat_map(|&v| f64::from(v).to_le_bytes())
        .collect();
    let file = [
        entry("h", &[3], false, "Float16", &f16),
        entry("b", &[3], true, "BFloat16", &bf16),
        entry("d", &[3], false, "Float64", &f64),
    ]
    .concat();
    let sd = load(&file);
    for key in ["h", "b", "d"] {
        assert_eq!(sd.tensors[key].data, values, "{key}");
    }
}

/// Training checkpoints hold optimizer copies of each weight, step counters, the learning rate,
/// `append_dict` strings, the RNG state and map tensors beside the weights: only weights load.
#[test]
fn training_state_and_non_float_entries_are_left_out() {
    let w = [0.5f32, 1.5];
    let scalar_i32 = 7i32.to_le_bytes();
    let mut map_value = Vec::new();
    field(&mut map_value, 1, b"embedding");
    field(
        &mut map_value,
        3,
        &entry("inner", &[1], false, "float32", &[0; 4]),
    );
    let mut map = Vec::new();
    field(&mut map, 1, &map_value);
    let file = [
        f32_entry("net.w", &[2], &w),
        f32_entry("moments.net.w", &[2], &w),
        f32_entry("adam_m.net.w", &[2], &w),
        f32_entry("adam_v.net.w", &[2], &w),
        f32_entry("accum.net.w", &[2], &w),
        // An optimizer this reader has no name for: a same-shaped `<prefix>.<weight>` copy.
        f32_entry("velocity.net.w", &[2], &w),
        f32_entry("learning_rate", &[], &[0.1]),
        f32_entry("beta1_power", &[1], &[0.9]),
        entry("global_step", &[1], false, "Int32", &scalar_i32),
        entry("net.mask", &[2], false, "Bool", &[1, 0]),
        entry("epoch_num", &[0], false, "Int64", &[0; 8]),
        entry("note", &[], false, "str", &[b'a', 0, 0, 0]),
        entry("random_op", &[0], false, "random_op", &[1, 2, 3]),
        entry("moment1.net.w", &[2], false, "Complex64", &[0; 16]),
        map,
        // `dims == [0]` with one element is how MindSpore stores a scalar parameter.
        f32_entry("net.scale", &[0], &[3.0]),
    ]
    .concat();
    let sd = load(&file);
    let keys: Vec<&str> = sd.tensors.keys().map(String::as_str).collect();
    assert_eq!(keys, ["net.scale", "net.w"]);
    assert_eq!(sd.tensors["net.scale"].shape, Vec::<usize>::new());
    assert_eq!(sd.tensors["net.scale"].data, [3.0]);
    // An integer entry that is not training state may be a weight stored so: it is named.
    let skipped = &sd.metadata[checkpoint::META_SKIPPED];
    assert_eq!(skipped, r#"{"net.mask":"Bool"}"#);
}

/// `save_checkpoint(..., crc_check=True)` appends `crc_num` and the CRC-32 as 10 big-endian bytes.
#[test]
fn the_crc_trailer_is_checked_and_stripped() {
    let body = small();
    let with = |crc: u64| {
        let mut b = body.clone();
        b.extend_from_slice(b"crc_num");
        b.extend_from_slice(&u128::from(crc).to_be_bytes()[6..]);
        b
    };
    let sd = load(&with(u64::from(crc32(&body))));
    assert_eq!(sd, load(&body));
    let got = error("crc.ckpt", &with(u64::from(crc32(&body)) ^ 1));
    assert_says(
        "wrong CRC",
        &got,
        &["CRC-32", "damaged", "download it again"],
    );
}

#[test]
fn truncated_files_say_so() {
    let file = small();
    let first_len = f32_entry("net.conv.weight", &[2, 1, 2, 2], &[0.0; 8]).len();
    for cut in [first_len + 3, first_len + 20, file.len() - 1, 30, 25] {
        let got = error("cut.ckpt", &file[..cut]);
        assert_says(
            &format!("cut at {cut}"),
            &got,
            &["truncated", "download it again"],
        );
    }
    // Too short to tell what it was.
    for cut in [1, 3] {
        let got = error("cut.ckpt", &file[..cut]);
        assert_says(
            &format!("cut at {cut}"),
            &got,
            &["not a readable MindSpore checkpoint"],
        );
    }
    let real = std::fs::read(fixture()).unwrap();
    let got = error(FIXTURE, &real[..real.len() / 2]);
    assert_says(
        "the fixture cut in half",
        &got,
        &["truncated", "complete entries", "download it again"],
    );
}

#[test]
fn damaged_structure_is_refused() {
    let mut bad_varint = small();
    // The first Value's length becomes a varint of eleven bytes.
    bad_varint.splice(1..2, [0xff; 11]);
    let cases: [(&str, Vec<u8>, &[&str]); 5] = [
        ("a corrupt varint", bad_varint, &["varint", "corrupt"]),
        (
            "a group field",
            [small(), vec![0x0a, 0x04, 0x0a, 0x01, b'x', 0x23]].concat(),
            &["wire type 3", "corrupt"],
        ),
        (
            "a tag that is not UTF-8",
            entry("\u{0}", &[1], false, "Float32", &[0; 4])
                .iter()
                .map(|&b| if b == 0 { 0xff } else { b })
                .collect(),
            &["UTF-8"],
        ),
        (
            "garbage after the entries",
            [small(), vec![0x22, 0x01]].concat(),
            &[
                "corrupt",
                "field 4 with wire type 2 at the top level",
                "after 2 complete entries",
            ],
        ),
        (
            "too many dims",
            entry("w", &[1; 40], false, "Float32", &[0; 4]),
            &["more than 32 dimensions"],
        ),
    ];
    for (what, bytes, expected) in cases {
        assert_says(what, &error("bad.ckpt", &bytes), expected);
    }
}

#[test]
fn shapes_that_do_not_match_the_data_are_refused_before_allocating() {
    let huge = 1i64 << 40;
    let cases: [(&str, Vec<u8>, &[&str]); 5] = [
        (
            "overflowing dims",
            entry("w", &[huge, huge, huge], false, "Float32", &[0; 16]),
            &["`w`", "too large"],
        ),
        (
            "dims beyond the data",
            entry("w", &[100_000, 100_000], true, "Float32", &[0; 16]),
            &["needs 40000000000 bytes", "holds 16"],
        ),
        (
            "a negative dim",
            entry("w", &[-1, 4], false, "Float32", &[0; 16]),
            &["dimension -1"],
        ),
        (
            "content one element short",
            entry("w", &[2, 2], false, "Float32", &[0; 12]),
            &["needs 16 bytes", "holds 12"],
        ),
        (
            "content not a whole element",
            entry("w", &[3], false, "Float16", &[0; 5]),
            &["needs 6 bytes", "holds 5"],
        ),
    ];
    for (what, bytes, expected) in cases {
        let got = error("shape.ckpt", &bytes);
        assert_says(what, &got, expected);
        assert_says(what, &got, &["corrupt", "download it again"]);
    }
}

#[test]
fn unsupported_and_missing_weights_are_explained() {
    let got = error(
        "c.ckpt",
        &entry("net.w", &[2], false, "Complex64", &[0; 16]),
    );
    assert_says(
        "Complex64 weight",
        &got,
        &["`net.w`", "`Complex64`", "float32"],
    );
    let twice = [
        f32_entry("a", &[1], &[1.0]),
        f32_entry("b", &[1], &[1.0]),
        f32_entry("a", &[1], &[1.0]),
    ]
    .concat();
    assert_says(
        "a repeated tag",
        &error("t.ckpt", &twice),
        &["`a` occurs twice"],
    );
    let state_only = entry("global_step", &[1], false, "Int32", &[1, 0, 0, 0]);
    assert_says(
        "no weights",
        &error("s.ckpt", &state_only),
        &["no float weights", "save_checkpoint(net"],
    );
}

#[test]
fn encrypted_random_and_empty_files_are_explained() {
    // Ciphertext without MindSpore's block magic (or any other noise).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    assert!(
        !matches!(noise[0], 0x0a | 0x80 | b'P'),
        "the noise must not open like a known format"
    );
    let got = error("enc.ckpt", &noise);
    assert_says(
        "noise",
        &got,
        &[
            "not a readable MindSpore checkpoint",
            "may be encrypted",
            "dec_key",
            "save_checkpoint",
            "corrupt",
        ],
    );
    // An encrypted file as MindSpore writes it: each block opens with its mode's magic.
    for (magic, mode) in [
        (0x7F3A_5ED8u32, "AES-GCM"),
        (0x7F3A_5ED9, "AES-CBC"),
        (0x7F3A_5EDA, "SM4-CBC"),
    ] {
        let bytes = [&magic.to_le_bytes()[..], &noise[..100]].concat();
        let got = error("model.bin", &bytes);
        assert_says(
            mode,
            &got,
            &["is encrypted", mode, "dec_key", "without `enc_key`"],
        );
    }
    assert_says(
        "empty",
        &error("empty.ckpt", b""),
        &["empty", "download it again"],
    );
}

/// Every prefix and many one-byte corruptions of a valid file give an error or a load, never a
/// panic: a cheap stand-in for the fuzzer on the machines that run the tests.
#[test]
fn no_prefix_or_flipped_byte_panics() {
    let file = [small(), entry("h", &[2], true, "Float16", &[0, 60, 0, 188])].concat();
    for cut in 0..file.len() {
        let _ = std::panic::catch_unwind(|| fuzzing::mindspore(&file[..cut]))
            .unwrap_or_else(|_| panic!("cut at {cut} panicked"));
    }
    for i in 0..file.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut b = file.clone();
            b[i] ^= flip;
            let _ = std::panic::catch_unwind(|| checkpoint::load_bytes(Path::new("f.ckpt"), &b))
                .unwrap_or_else(|_| panic!("byte {i} ^ {flip:#x} panicked"));
        }
    }
}
