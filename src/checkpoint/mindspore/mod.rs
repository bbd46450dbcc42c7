//! MindSpore `.ckpt` files (`mindspore.save_checkpoint`): a bare protobuf `Checkpoint` message,
//! one `Value { tag, tensor }` per parameter with little-endian raw data, keys kept as written.
//!
//! What MindSpore's writer does that the reader has to follow (mindspore/python/mindspore/train/
//! serialization.py, `_exec_save`, `_write_parameter_bytes_data`, `_parse_ckpt_proto`):
//! - a tensor over 512 MiB is written as several consecutive Values with the same tag, each with
//!   the full dims and a slice of the bytes; the loader joins them until the tag changes;
//! - `dims == [0]` with one element of data is a scalar;
//! - `save_checkpoint(..., crc_check=True)` appends `b"crc_num"` and the CRC-32 of the bytes
//!   before it as 10 big-endian bytes; `load_checkpoint` strips those 17 bytes when it sees the
//!   marker and compares the CRC only when asked;
//! - with `enc_key` the whole file is ciphertext in blocks, each opening with a little-endian
//!   magic number (mindspore/core/utils/crypto.h: 0x7F3A5ED8 AES-GCM, 0x7F3A5ED9 AES-CBC,
//!   0x7F3A5EDA SM4-CBC);
//! - `append_dict` strings (`tensor_type` "str"), the `random_op` state and map tensors
//!   (Values without a `tensor`) sit beside the weights.

mod envelope;
mod proto;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::{DType, META_SKIPPED, Tensor};
use crate::{Error, Result};
use envelope::{check_crc, cipher_mode, split_trailer, starts_with_tag};
use proto::{Entry, Failure};

pub(crate) use envelope::looks_like;

/// Tags of training state that MindSpore optimizers, loss scalers and `Model` keep beside the
/// weights (scalars or per-parameter copies); never weights.
const STATE_NAMES: [&str; 11] = [
    "global_step",
    "learning_rate",
    "beta1_power",
    "beta2_power",
    "momentum",
    "scale_sense",
    "loss_scale",
    "current_iterator_step",
    "last_overflow_iterator_step",
    "epoch_num",
    "step_num",
];

/// Prefixes MindSpore optimizers put before a parameter's name for its state (`Momentum`:
/// moments, `Adam`: moment1/moment2, `AdamWeightDecay`: adam_m/adam_v, `Lamb`: lamb_m/lamb_v,
/// `Adagrad`/`SGD`: accum, `RMSProp`: mean_grad/mean_square). Other optimizers are caught by
/// the rule in [`is_training_state`].
const STATE_PREFIXES: [&str; 10] = [
    "moments.",
    "moment1.",
    "moment2.",
    "adam_m.",
    "adam_v.",
    "lamb_m.",
    "lamb_v.",
    "accum.",
    "mean_grad.",
    "mean_square.",
];

type Loaded = (Vec<(String, Tensor)>, BTreeMap<String, String>);

/// Reads the float weights of a MindSpore checkpoint; integer, string and training-state
/// entries are left out, and integer or bool entries that may be weights are listed under
/// [`META_SKIPPED`] in the metadata, as the safetensors reader does.
pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Loaded> {
    let bad = |message: String| Error::bad_file(path, message);
    if bytes.is_empty() {
        return Err(bad(
            "the file is empty, not a MindSpore checkpoint: download it again".into(),
        ));
    }
    if let Some(mode) = cipher_mode(bytes) {
        return Err(bad(format!(
            "this MindSpore checkpoint is encrypted ({mode}); decrypt it in MindSpore with \
             `params = mindspore.load_checkpoint(path, dec_key=KEY, dec_mode=\"{mode}\")` and \
             save it again with `mindspore.save_checkpoint(params, new_path)` without `enc_key`"
        )));
    }
    let (body, crc) = split_trailer(bytes);
    let entries = proto::parse(body).map_err(|f| bad(describe(bytes, &f)))?;
    if let Some(stored) = crc {
        check_crc(body, stored, &entries).map_err(bad)?;
    }
    let groups = group(&entries).map_err(bad)?;
    let shapes: HashMap<&str, &[i64]> = groups.iter().map(|g| (g.tag, g.dims)).collect();
    let mut out = Vec::new();
    let mut skipped = serde_json::Map::new();
    for g in &groups {
        if is_integer(g.dtype) && !is_training_state(g.tag, g.dims, &shapes) {
            skipped.insert(g.tag.to_owned(), g.dtype.into());
        }
        if let Some(tensor) = convert(g, &shapes).map_err(bad)? {
            out.push((g.tag.to_owned(), tensor));
        }
    }
    if out.is_empty() {
        return Err(bad(format!(
            "the MindSpore checkpoint holds {} entries but no float weights (only training \
             state, integers or strings); save the network's parameters with \
             `mindspore.save_checkpoint(net, path)`",
            entries.len()
        )));
    }
    let mut metadata = BTreeMap::new();
    if !skipped.is_empty() {
        let list = serde_json::Value::Object(skipped).to_string();
        metadata.insert(META_SKIPPED.to_owned(), list);
    }
    Ok((out, metadata))
}

/// The Values of one parameter: several when MindSpore split a large tensor.
struct Group<'a> {
    tag: &'a str,
    at: usize,
    dtype: &'a str,
    dims: &'a [i64],
    parts: Vec<&'a [u8]>,
}

fn group<'a>(entries: &'a [Entry<'a>]) -> std::result::Result<Vec<Group<'a>>, String> {
    let mut groups: Vec<Group> = Vec::new();
    let mut seen = HashSet::new();
    for e in entries {
        // Map tensors (no `tensor`) are embedding tables of parameter servers, not weights.
        let Some(t) = &e.tensor else { continue };
        if let Some(last) = groups.last_mut().filter(|g| g.tag == e.tag) {
            if last.dtype != t.dtype || last.dims != t.dims.as_slice() {
                return Err(format!(
                    "the slices of `{}` (at byte {}) disagree on type or shape; the file is \
                     corrupt: download it again",
                    e.tag, e.at
                ));
            }
            last.parts.push(t.content);
            continue;
        }
        if !seen.insert(e.tag) {
            return Err(format!(
                "`{}` occurs twice (again at byte {}); the file is corrupt or two checkpoints \
                 were joined: save it again from MindSpore",
                e.tag, e.at
            ));
        }
        groups.push(Group {
            tag: e.tag,
            at: e.at,
            dtype: t.dtype,
            dims: &t.dims,
            parts: vec![t.content],
        });
    }
    Ok(groups)
}

/// Optimizer and step state: known names and prefixes, or `<prefix>.<name of another tensor
/// of the same shape>`, which is how `ParameterTuple.clone(prefix=...)` names optimizer copies.
fn is_training_state(tag: &str, dims: &[i64], shapes: &HashMap<&str, &[i64]>) -> bool {
    if STATE_NAMES.contains(&tag) || STATE_PREFIXES.iter().any(|p| tag.starts_with(p)) {
        return true;
    }
    tag.split_once('.')
        .is_some_and(|(_, rest)| shapes.get(rest).is_some_and(|d| *d == dims))
}

fn float_dtype(name: &str) -> Option<DType> {
    Some(match name {
        "Float32" => DType::F32,
        "Float16" => DType::F16,
        "BFloat16" => DType::BF16,
        "Float64" => DType::F64,
        _ => return None,
    })
}

/// Counters and masks: never inference weights, but worth naming if a weight is stored so.
fn is_integer(name: &str) -> bool {
    matches!(
        name,
        "Int8" | "UInt8" | "Int16" | "UInt16" | "Int32" | "UInt32" | "Int64" | "UInt64" | "Bool"
    )
}

fn convert(
    g: &Group,
    shapes: &HashMap<&str, &[i64]>,
) -> std::result::Result<Option<Tensor>, String> {
    // `str` holds `append_dict` strings, `random_op` the RNG state.
    let not_weight = is_integer(g.dtype) || matches!(g.dtype, "str" | "random_op");
    if g.tag == "random_op" || not_weight || is_training_state(g.tag, g.dims, shapes) {
        return Ok(None);
    }
    let Some(dtype) = float_dtype(g.dtype) else {
        return Err(format!(
            "tensor `{}` has type `{}`, which is not supported; convert the checkpoint's \
             weights to float32 in MindSpore and save it again",
            g.tag,
            g.dtype.escape_debug()
        ));
    };
    let held: usize = g.parts.iter().map(|p| p.len()).sum();
    let shape = shape_of(g, dtype, held)?;
    let data = if let [one] = g.parts.as_slice() {
        dtype.decode(one, false)
    } else {
        dtype.decode(&g.parts.concat(), false)
    };
    Ok(Some(Tensor { shape, data }))
}

/// The shape, once the bytes present are checked to be exactly what it needs, so that nothing is
/// sized from the dims alone.
fn shape_of(g: &Group, dtype: DType, held: usize) -> std::result::Result<Vec<usize>, String> {
    let corrupt = |why: String| {
        format!(
            "tensor `{}` (at byte {}): {why}; the file is corrupt: download it again",
            g.tag, g.at
        )
    };
    let mut shape = Vec::with_capacity(g.dims.len());
    for &d in g.dims {
        let d =
            usize::try_from(d).map_err(|_| corrupt(format!("dimension {d} in {:?}", g.dims)))?;
        shape.push(d);
    }
    // `load_checkpoint` reads dims [0] as a scalar.
    if shape == [0] && held == dtype.size() {
        shape.clear();
    }
    let need = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
    match need {
        Some(n) if n == held => Ok(shape),
        Some(n) => Err(corrupt(format!(
            "shape {:?} of {} needs {n} bytes but the file holds {held}",
            g.dims, g.dtype
        ))),
        None => Err(corrupt(format!("shape {:?} is too large", g.dims))),
    }
}

/// The message for bytes that do not parse: a file that starts like a checkpoint is damaged;
/// anything else may be ciphertext without MindSpore's magic (an older writer) or another format.
fn describe(file: &[u8], f: &Failure) -> String {
    if !starts_with_tag(file) {
        return format!(
            "not a readable MindSpore checkpoint (at byte {}: {}); it may be encrypted (saved \
             with `enc_key`): decrypt it in MindSpore with `params = mindspore.load_checkpoint(\
             path, dec_key=KEY, dec_mode=MODE)` and save it again with \
             `mindspore.save_checkpoint(params, new_path)` without `enc_key`; otherwise the \
             file is corrupt: download it again",
            f.at, f.what
        );
    }
    let after = match &f.last_tag {
        Some(tag) => format!(
            "after {} complete entries, the last `{tag}`",
            f.entries_before
        ),
        None => "in the first entry".to_owned(),
    };
    let state = if f.truncated { "truncated" } else { "corrupt" };
    format!(
        "the MindSpore checkpoint is {state} at byte {} of {}, {after}: {}; download it again",
        f.at,
        file.len(),
        f.what
    )
}
