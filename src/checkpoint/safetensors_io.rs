//! safetensors in and out. The `safetensors` crate validates the header (size limit, offsets
//! inside the file, byte counts matching shapes) before we touch any tensor data.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors, View};

use super::{DType, META_SKIPPED, StateDict, Tensor};
use crate::output::{Content, OutputFile, OutputRules};
use crate::{Error, Result};

type Loaded = (Vec<(String, Tensor)>, BTreeMap<String, String>);

/// The `safetensors` crate's limit on the JSON header, which it reports without numbers.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The length prefix checked with the numbers a user can act on: a cut or damaged download
/// shows as a header longer than the file.
fn check_header_length(bytes: &[u8]) -> std::result::Result<(), String> {
    let Some(prefix) = bytes.get(..8) else {
        return Err(format!(
            "a safetensors file starts with an 8-byte header length, but this file has only {} \
             bytes; it is truncated: download it again",
            bytes.len()
        ));
    };
    let n = u64::from_le_bytes(prefix.try_into().unwrap_or_default());
    let after = bytes.len() as u64 - 8;
    if n > after {
        let limit = if n > MAX_HEADER_BYTES {
            format!(" (and over safetensors' limit of {MAX_HEADER_BYTES})")
        } else {
            String::new()
        };
        return Err(format!(
            "the safetensors header length says {n} bytes{limit}, but only {after} bytes follow \
             it; the file is truncated or corrupt: download it again"
        ));
    }
    Ok(())
}

pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Loaded> {
    check_header_length(bytes).map_err(|m| Error::bad_file(path, m))?;
    let invalid = |e: safetensors::SafeTensorError| {
        Error::bad_file(
            path,
            format!(
                "not a valid safetensors file ({e}); it is truncated or corrupt: download it again"
            ),
        )
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let mut metadata: BTreeMap<String, String> = header
        .metadata()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let st = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let mut tensors = Vec::new();
    let mut skipped = serde_json::Map::new();
    for (name, view) in st.iter() {
        let Some(dtype) = float_dtype(path, name, view.dtype())? else {
            // Integer and bool tensors are counters or masks, never weights a model runs on;
            // their names are kept so that a weight stored so is reported as such, not missing.
            if !name.ends_with("num_batches_tracked") {
                skipped.insert(name.to_owned(), format!("{:?}", view.dtype()).into());
            }
            continue;
        };
        let shape = view.shape().to_vec();
        let bytes = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
        if bytes != Some(view.data().len()) {
            return Err(Error::bad_file(
                path,
                format!("tensor `{name}`: data length does not match its shape"),
            ));
        }
        let data = dtype.decode(view.data(), false);
        tensors.push((name.to_owned(), Tensor { shape, data }));
    }
    // Set by this reader alone: a file's own entry under that key is not believed.
    metadata.remove(META_SKIPPED);
    if !skipped.is_empty() {
        let list = serde_json::Value::Object(skipped).to_string();
        metadata.insert(META_SKIPPED.to_owned(), list);
    }
    Ok((tensors, metadata))
}

/// The float type of a tensor stored as `dtype`, `None` for integer and bool tensors, or an
/// error naming the tensor for a type effnet does not read.
fn float_dtype(path: &Path, name: &str, dtype: Dtype) -> Result<Option<DType>> {
    Ok(Some(match dtype {
        Dtype::F64 => DType::F64,
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::BOOL
        | Dtype::U8
        | Dtype::I8
        | Dtype::I16
        | Dtype::U16
        | Dtype::I32
        | Dtype::U32
        | Dtype::I64
        | Dtype::U64 => return Ok(None),
        other => {
            return Err(Error::bad_file(
                path,
                format!(
                    "tensor `{name}` has dtype {other:?}, which is not supported; \
                     convert the checkpoint to F32, F16 or BF16"
                ),
            ));
        }
    }))
}

/// An owned tensor in the byte layout safetensors writes (little-endian).
struct Encoded {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Encoded {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn encode(t: &Tensor, f16: bool) -> Encoded {
    let bytes = if f16 {
        t.data
            .iter()
            .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
            .collect()
    } else {
        t.data.iter().flat_map(|&x| x.to_le_bytes()).collect()
    };
    Encoded {
        dtype: if f16 { Dtype::F16 } else { Dtype::F32 },
        shape: t.shape.clone(),
        bytes,
    }
}

/// `sd.tensors` as the bytes of a safetensors file, f32 or (with `f16`) half precision rounded
/// to nearest. `metadata` becomes the file's `__metadata__`; `sd.metadata` is not added
/// implicitly, so the caller decides what to carry over.
pub fn encode_safetensors(
    sd: &StateDict,
    metadata: &BTreeMap<String, String>,
    f16: bool,
) -> Result<Vec<u8>> {
    for (key, t) in &sd.tensors {
        if t.numel() != t.data.len() {
            return Err(Error::Input(format!(
                "tensor `{key}` has shape {:?} but {} values; fix the tensor before saving",
                t.shape,
                t.data.len()
            )));
        }
    }
    let encoded: Vec<(&str, Encoded)> = sd
        .tensors
        .iter()
        .map(|(k, t)| (k.as_str(), encode(t, f16)))
        .collect();
    let info: Option<HashMap<String, String>> = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    safetensors::serialize(encoded.iter().map(|(k, e)| (*k, e)), info)
        .map_err(|e| Error::Input(format!("cannot encode safetensors: {e}")))
        .map(sorted_header)
}

/// Writes [`encode_safetensors`]'s bytes to `path` through an [`OutputFile`]: the old file
/// stays whole until the new one replaces it, and an existing file that is not safetensors is
/// refused rather than replaced.
pub fn save_safetensors(
    path: &Path,
    sd: &StateDict,
    metadata: &BTreeMap<String, String>,
    f16: bool,
) -> Result<()> {
    let out = OutputFile::create(path, &OutputRules::new(Content::Safetensors))?;
    out.commit(&encode_safetensors(sd, metadata, f16)?)
}

/// The same file with its JSON header's keys sorted (`__metadata__` included), so that equal
/// inputs give byte-identical files: the `safetensors` crate writes metadata in `HashMap`
/// order, which changes from run to run. Offsets are relative to the data, so they stay valid.
fn sorted_header(bytes: Vec<u8>) -> Vec<u8> {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            other => other,
        }
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(&bytes[8..8 + n]) else {
        return bytes; // our own serializer's output always parses; keep it as it is otherwise
    };
    let mut text = serde_json::to_vec(&sort(header)).expect("a JSON value serializes");
    // The data must start 8-byte aligned; safetensors pads the header with spaces.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}
