//! Checkpoint import: the two real Lite0 files (legacy efficientnet_pytorch and zip timm) agree
//! bit for bit after renaming, safetensors round trips, and hostile or damaged files give errors.

#[path = "support/checkpoint_fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use effnet::Error;
use effnet::checkpoint::{self, KeyScheme, StateDict, Tensor};
use fixtures::*;

const LITE0_REPEATS: [usize; 7] = [1, 2, 2, 3, 3, 4, 1];
const LEGACY: &str = "efficientnet-lite0-57934424.pth";
const TIMM: &str = "tf_efficientnet_lite0.timm.pth";

/// The repository is cloned with `shared/` beside it; a worktree elsewhere can point
/// `EFFNET_SHARED_DIR` at that folder instead.
fn weights(name: &str) -> PathBuf {
    let beside = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/weights")).join(name);
    if beside.exists() {
        return beside;
    }
    if let Some(dir) = std::env::var_os("EFFNET_SHARED_DIR") {
        let p = PathBuf::from(dir).join("weights").join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{} is missing: clone the repository with `shared/` beside it or set EFFNET_SHARED_DIR",
        beside.display()
    );
}

fn loaded(name: &'static str) -> &'static StateDict {
    static CACHE: OnceLock<[StateDict; 2]> = OnceLock::new();
    let both = CACHE.get_or_init(|| {
        let load = |n| checkpoint::load(&weights(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        [load(LEGACY), load(TIMM)]
    });
    &both[usize::from(name == TIMM)]
}

#[test]
fn both_real_files_load_and_their_schemes_are_detected() {
    let (legacy, timm) = (loaded(LEGACY), loaded(TIMM));
    assert_eq!(
        checkpoint::detect_scheme(legacy),
        Some(KeyScheme::EfficientNetPytorch)
    );
    assert_eq!(checkpoint::detect_scheme(timm), Some(KeyScheme::Timm));
    assert_eq!(legacy.tensors["_conv_stem.weight"].shape, [32, 3, 3, 3]);
    assert_eq!(timm.tensors["classifier.weight"].shape, [1000, 1280]);
    for sd in [legacy, timm] {
        assert!(
            sd.tensors
                .keys()
                .all(|k| !k.ends_with("num_batches_tracked"))
        );
        assert!(sd.tensors.values().all(|t| t.numel() == t.data.len()));
    }
}

/// The legacy file stores several conv weights as strided views, the timm file contiguously:
/// equality proves that offsets and strides are honoured.
#[test]
fn renamed_legacy_file_equals_timm_file_bit_for_bit() {
    let renamed =
        checkpoint::efficientnet_pytorch_to_timm(loaded(LEGACY).clone(), &LITE0_REPEATS).unwrap();
    let timm = loaded(TIMM);
    assert_eq!(checkpoint::detect_scheme(&renamed), Some(KeyScheme::Timm));
    let keys = |sd: &StateDict| sd.tensors.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&renamed), keys(timm));
    for (key, t) in &timm.tensors {
        let r = &renamed.tensors[key];
        assert_eq!(r.shape, t.shape, "{key}");
        let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(bits(&r.data) == bits(&t.data), "{key}: values differ");
    }
}

#[test]
fn wrong_stage_repeats_are_reported() {
    let err =
        checkpoint::efficientnet_pytorch_to_timm(loaded(LEGACY).clone(), &[1, 2, 2]).unwrap_err();
    assert!(err.to_string().contains("16 blocks"), "{err}");
}

#[test]
fn safetensors_round_trip_f32_exact_and_f16_rounded() {
    let dir = scratch("roundtrip");
    let sd = loaded(TIMM);
    let meta = BTreeMap::from([("source".to_owned(), "timm".to_owned())]);
    for f16 in [false, true] {
        let path = dir.join(format!("lite0-{f16}.safetensors"));
        checkpoint::save_safetensors(&path, sd, &meta, f16).unwrap();
        let back = checkpoint::load(&path).unwrap();
        assert_eq!(back.metadata, meta);
        assert_eq!(back.tensors.len(), sd.tensors.len());
        for (key, t) in &sd.tensors {
            let b = &back.tensors[key];
            assert_eq!(b.shape, t.shape, "{key}");
            let expect: Vec<f32> = if f16 {
                t.data
                    .iter()
                    .map(|&x| half::f16::from_f32(x).to_f32())
                    .collect()
            } else {
                t.data.clone()
            };
            assert_eq!(b.data, expect, "{key} (f16: {f16})");
        }
    }
}

/// A safetensors header length is arbitrary, so its first byte can be 0x80, like a pickle's.
#[test]
fn safetensors_is_recognised_whatever_its_header_length() {
    let sd = StateDict {
        tensors: BTreeMap::from([(
            "x".to_owned(),
            Tensor {
                shape: vec![1],
                data: vec![2.0],
            },
        )]),
        metadata: BTreeMap::new(),
    };
    let dir = scratch("sniff");
    let path = dir.join("x.safetensors");
    let first_byte_0x80 = (0..64).any(|pad| {
        let meta = BTreeMap::from([("pad".to_owned(), "p".repeat(pad))]);
        checkpoint::save_safetensors(&path, &sd, &meta, false).unwrap();
        std::fs::read(&path).unwrap()[0] == 0x80
    });
    assert!(first_byte_0x80);
    assert_eq!(checkpoint::load(&path).unwrap().tensors, sd.tensors);
}

#[test]
fn tiny_safetensors_with_bf16_f16_f64_converts() {
    use safetensors::{Dtype, tensor::TensorView};
    let bf16: Vec<u8> = [1.0f32, -3.140625, 256.0]
        .iter()
        .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
        .collect();
    let f16 = f16_bytes(&[0.5, -65504.0]);
    let f64s: Vec<u8> = [0.1f64, -2.5, 1e-3, 7.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let i64s: Vec<u8> = 5i64.to_le_bytes().to_vec();
    let views = [
        (
            "module.a",
            TensorView::new(Dtype::BF16, vec![3], &bf16).unwrap(),
        ),
        ("b", TensorView::new(Dtype::F16, vec![2, 1], &f16).unwrap()),
        ("c", TensorView::new(Dtype::F64, vec![2, 2], &f64s).unwrap()),
        (
            "bn.num_batches_tracked",
            TensorView::new(Dtype::I64, vec![], &i64s).unwrap(),
        ),
    ];
    let meta = std::collections::HashMap::from([("format".to_owned(), "pt".to_owned())]);
    let bytes = safetensors::serialize(views, Some(meta)).unwrap();
    let sd = checkpoint::load(&write(&scratch("tiny"), "tiny.safetensors", &bytes)).unwrap();
    assert_eq!(sd.metadata["format"], "pt");
    assert_eq!(sd.tensors.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(sd.tensors["a"].data, [1.0, -3.140625, 256.0]);
    assert_eq!(
        sd.tensors["b"],
        Tensor {
            shape: vec![2, 1],
            data: vec![0.5, -65504.0]
        }
    );
    assert_eq!(sd.tensors["c"].data, [0.1f32, -2.5, 1e-3, 7.0]);
}

/// Offsets, strides, f16 and the `{"state_dict": ...}` wrapper with a `module.` prefix, in
/// both PyTorch formats; the legacy one also through a storage view.
#[test]
fn handmade_strided_half_tensors_load_in_both_formats() {
    let storage = f16_bytes(&[10.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let mut spec = Spec {
        key: "module.w",
        storage_type: "HalfStorage",
        storage_key: "0",
        numel: 8,
        view: None,
        offset: 3,
        shape: &[2, 2],
        stride: &[1, 2],
    };
    // Elements 3 + i + 2j of the storage: [[2, 4], [3, 5]].
    let zip = zip_file(
        "archive_dir",
        &state_dict_pickle(&[spec], false, true),
        &[("0", &storage)],
    );
    spec.view = Some((1, 7));
    spec.offset = 2;
    let legacy = legacy_file(
        &state_dict_pickle(&[spec], true, true),
        &[("0", 8, &storage)],
    );
    let dir = scratch("strided");
    for (name, bytes) in [("z.pth", zip), ("l.pth", legacy)] {
        let sd =
            checkpoint::load(&write(&dir, name, &bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            sd.tensors["w"],
            Tensor {
                shape: vec![2, 2],
                data: vec![2.0, 4.0, 3.0, 5.0]
            },
            "{name}"
        );
    }
}

fn assert_refused(path: &Path, global: &str) {
    match checkpoint::load(path) {
        Err(e @ Error::UnsafePickle { .. }) => assert!(e.to_string().contains(global), "{e}"),
        other => panic!(
            "{}: expected a refusal naming {global}, got {other:?}",
            path.display()
        ),
    }
}

#[test]
fn pickles_naming_other_globals_are_refused_by_name() {
    let dir = scratch("evil");
    let mut p = Pickle::new();
    let system = p
        .global("os", "system")
        .str("touch /tmp/pwned")
        .op(&[0x85])
        .op(b"R")
        .stop();
    assert_refused(&write(&dir, "raw.pth", &system), "os.system");
    assert_refused(
        &write(&dir, "legacy.pth", &legacy_file(&system, &[])),
        "os.system",
    );
    assert_refused(
        &write(&dir, "zip.pth", &zip_file("x", &system, &[])),
        "os.system",
    );
    let mut p = Pickle::new();
    let eval = p
        .str("builtins")
        .str("eval")
        .op(&[0x93])
        .str("1")
        .op(&[0x85])
        .op(b"R")
        .stop();
    assert_refused(&write(&dir, "eval.pth", &eval), "builtins.eval");
}

fn assert_fails(dir: &Path, name: &str, bytes: &[u8]) {
    let path = write(dir, name, bytes);
    let result = std::panic::catch_unwind(|| checkpoint::load(&path));
    match result {
        Ok(Err(e)) => assert!(!e.to_string().is_empty()),
        Ok(Ok(sd)) => panic!(
            "{name}: loaded {} tensors from a broken file",
            sd.tensors.len()
        ),
        Err(_) => panic!("{name}: panicked"),
    }
}

#[test]
fn truncated_files_give_errors() {
    let dir = scratch("truncated");
    for name in [LEGACY, TIMM] {
        let bytes = std::fs::read(weights(name)).unwrap();
        let n = bytes.len();
        for cut in [
            0,
            1,
            8,
            15,
            21,
            100,
            4096,
            40_000,
            47_180,
            n / 3,
            n / 2,
            n - 100,
            n - 1,
        ] {
            assert_fails(&dir, &format!("cut-{cut}"), &bytes[..cut]);
        }
    }
}

/// Random damage: flips in a legacy file's raw floats cannot be noticed (the format has no
/// checksum), so the guarantee is no panic; the zip format's CRCs catch flipped payload bytes.
#[test]
fn random_byte_flips_never_panic() {
    let dir = scratch("flips");
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in [LEGACY, TIMM] {
        let original = std::fs::read(weights(name)).unwrap();
        let mut errors = 0;
        for round in 0..24 {
            let mut bytes = original.clone();
            // Half the rounds hit the pickles and headers, where structure lives.
            let span = if round % 2 == 0 { 48_000 } else { bytes.len() };
            for _ in 0..=(next() % 4) {
                let at = (next() as usize) % span;
                bytes[at] ^= 1 << (next() % 8);
            }
            let path = write(&dir, "flipped.pth", &bytes);
            match std::panic::catch_unwind(|| checkpoint::load(&path)) {
                Ok(r) => errors += usize::from(r.is_err()),
                Err(_) => panic!("{name}: round {round} panicked"),
            }
        }
        println!("{name}: {errors} of 24 damaged copies rejected");
    }
}

#[test]
fn hostile_sizes_are_rejected_without_allocating() {
    let dir = scratch("hostile");
    // A string claiming 4 GiB.
    assert_fails(
        &dir,
        "longstr",
        &[0x80, 2, b'X', 0xff, 0xff, 0xff, 0xff, b'a', b'.'],
    );
    // Deep nesting: 200k MARKs and tuples, then STOP; no recursion may overflow the stack.
    let mut deep = vec![0x80, 2];
    deep.extend(std::iter::repeat_n(b'(', 200_000));
    deep.extend(std::iter::repeat_n(b't', 200_000));
    deep.push(b'.');
    assert_fails(&dir, "deep", &deep);
    // A list that contains itself.
    assert_fails(
        &dir,
        "cycle",
        &[0x80, 2, b']', b'q', 0, b'h', 0, b'a', b'.'],
    );
    // A tensor of 10^18 elements broadcast from one storage element.
    let spec = |shape: &'static [u64], stride: &'static [u64], numel| Spec {
        key: "w",
        storage_type: "FloatStorage",
        storage_key: "0",
        numel,
        view: None,
        offset: 0,
        shape,
        stride,
    };
    let huge = state_dict_pickle(&[spec(&[1 << 30, 1 << 30], &[0, 0], 1)], true, false);
    assert_fails(&dir, "broadcast", &legacy_file(&huge, &[("0", 1, &[0; 4])]));
    // A storage count far beyond the file, and a view reaching past its storage.
    let big = state_dict_pickle(&[spec(&[2], &[1], 1 << 61)], true, false);
    assert_fails(
        &dir,
        "count",
        &legacy_file(&big, &[("0", 1 << 61, &[0; 8])]),
    );
    let past = state_dict_pickle(&[spec(&[3], &[1], 2)], false, false);
    assert_fails(&dir, "past", &zip_file("a", &past, &[("0", &[0; 8])]));
}
