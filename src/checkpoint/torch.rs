//! PyTorch checkpoints: the zip format of `torch.save` since 1.6 (`<dir>/data.pkl` plus one
//! entry `<dir>/data/<key>` per storage) and the legacy format (five pickles back to back —
//! magic number, protocol version, system info, the object, the storage keys — followed by
//! every storage as an 8-byte element count and its raw bytes).

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::Path;
use std::rc::Rc;

use super::pickle::{self, PickleError, TensorRef, Unpickled, Value};
use super::{DType, Tensor};
use crate::{Error, Result};

const LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;
const LEGACY_PROTOCOL: i128 = 1001;

/// Wrappers of training checkpoints, in the order timm prefers them (EMA weights evaluate best).
const WRAPPERS: [&str; 4] = ["state_dict_ema", "model_ema", "state_dict", "model"];

/// Caps the bytes read and produced: what a file may claim is bounded by what it holds
/// (raw storages plus their f32 copies fit well within this), so a corrupt header cannot make
/// us allocate gigabytes.
struct Budget(u64);

impl Budget {
    fn for_file(len: usize) -> Self {
        Budget((len as u64).saturating_mul(6).saturating_add(64 << 20))
    }

    fn spend(&mut self, bytes: u64, what: &str) -> std::result::Result<(), String> {
        self.0 = self.0.checked_sub(bytes).ok_or_else(|| {
            format!(
                "{what} would need {bytes} bytes, far more than the file can hold; \
                 the file is corrupt: download it again"
            )
        })?;
        Ok(())
    }
}

fn pickle_error(path: &Path, e: PickleError) -> Error {
    match e {
        PickleError::Refused(global) => Error::UnsafePickle {
            path: path.into(),
            global,
        },
        PickleError::Malformed { .. } => Error::bad_file(
            path,
            format!("{e}; the file is truncated or corrupt: download it again"),
        ),
    }
}

/// The tensors of a `torch.save` zip file, and the strings of a training wrapper's `meta` dict
/// (mmpretrain's `{'meta': {'model': NAME, ...}, 'state_dict': ...}`) as `meta.KEY` metadata.
pub(crate) fn load_zip(path: &Path, bytes: &[u8]) -> Result<Tensors> {
    let bad = |m: String| Error::bad_file(path, m);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        bad(format!(
            "not a readable zip archive ({e}); the file is truncated or corrupt: download it again"
        ))
    })?;
    let prefix = zip
        .file_names()
        .filter_map(|n| n.strip_suffix("data.pkl"))
        .find(|p| p.matches('/').count() == 1 && p.ends_with('/'))
        .map(str::to_owned)
        .ok_or_else(|| {
            bad("zip archive without `<dir>/data.pkl`; not a PyTorch checkpoint".into())
        })?;
    let mut budget = Budget::for_file(bytes.len());
    let big_endian = match read_entry(&mut zip, &format!("{prefix}byteorder"), &mut budget) {
        Ok(b) => b == b"big",
        Err(_) => false, // written since torch 1.13 only; older files are little-endian
    };
    let pkl = read_entry(&mut zip, &format!("{prefix}data.pkl"), &mut budget).map_err(bad)?;
    let un = pickle::unpickle(&pkl).map_err(|e| pickle_error(path, e))?;
    let entries = state_dict_tensors(&un).map_err(bad)?;
    let mut storages: HashMap<Rc<str>, Vec<u8>> = HashMap::new();
    for (_, t) in &entries {
        let s = &t.storage;
        if s.dtype.is_float() && !storages.contains_key(&s.key) {
            let name = format!("{prefix}data/{}", s.key);
            let data = read_entry(&mut zip, &name, &mut budget).map_err(bad)?;
            storages.insert(Rc::clone(&s.key), data);
        }
    }
    let lookup = |key: &str| storages.get(key).map(Vec::as_slice);
    let tensors = materialize(&entries, lookup, big_endian, &mut budget).map_err(bad)?;
    Ok((tensors, wrapper_meta(&un)))
}

type Tensors = (Vec<(String, Tensor)>, BTreeMap<String, String>);

/// The string entries of the root dict's `meta` dict, as `meta.KEY`: mmpretrain records the
/// model's name there, which tells apart variants whose tensors are alike.
fn wrapper_meta(un: &Unpickled) -> BTreeMap<String, String> {
    let meta = (un.dict(&un.root))
        .and_then(|d| d.get("meta"))
        .and_then(|m| un.dict(m));
    let mut out = BTreeMap::new();
    for (key, value) in meta.into_iter().flat_map(|m| &m.entries) {
        if let (pickle::DictKey::Str(k), Value::Str(v)) = (key, value)
            && v.len() <= 256
        {
            out.insert(format!("meta.{k}"), v.to_string());
        }
    }
    out
}

/// Reads one zip entry whole. Reading to the end is what makes the zip reader check the CRC,
/// so a damaged storage is reported instead of loaded.
fn read_entry<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    budget: &mut Budget,
) -> std::result::Result<Vec<u8>, String> {
    let mut entry = zip
        .by_name(name)
        .map_err(|e| format!("zip entry `{name}`: {e}"))?;
    let size = entry.size();
    budget.spend(size, &format!("zip entry `{name}`"))?;
    let mut buf = Vec::with_capacity(size as usize);
    // One byte of slack lets the reader reach its end (and CRC check) or reveal a size lie.
    (&mut entry)
        .take(size + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("zip entry `{name}`: {e}; the file is corrupt: download it again"))?;
    if buf.len() as u64 != size {
        return Err(format!(
            "zip entry `{name}` is not the size its header says"
        ));
    }
    Ok(buf)
}

pub(crate) fn load_legacy(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let bad = |m: String| Error::bad_file(path, m);
    let mut pos = 0;
    let mut next = || -> Result<Unpickled> {
        let un = pickle::unpickle(&bytes[pos..]).map_err(|e| pickle_error(path, e))?;
        pos += un.consumed;
        Ok(un)
    };
    let magic = next()?;
    if !matches!(magic.root, Value::Int(LEGACY_MAGIC)) {
        return Err(bad(
            "a pickle, but not a PyTorch checkpoint (no legacy magic number); \
             only files written by `torch.save` are supported"
                .into(),
        ));
    }
    let version = next()?;
    if !matches!(version.root, Value::Int(LEGACY_PROTOCOL)) {
        return Err(bad(
            "unsupported legacy PyTorch protocol version; re-save the file with a recent PyTorch"
                .into(),
        ));
    }
    let sys = next()?;
    let big_endian = sys
        .dict(&sys.root)
        .and_then(|d| d.get("little_endian"))
        .is_some_and(|v| matches!(v, Value::Bool(false)));
    let main = next()?;
    let keys = next()?;
    let storages = legacy_storages(bytes, pos, &main, &keys, big_endian).map_err(bad)?;
    let entries = state_dict_tensors(&main).map_err(bad)?;
    let lookup = |key: &str| storages.get(key).copied();
    let mut budget = Budget::for_file(bytes.len());
    materialize(&entries, lookup, big_endian, &mut budget).map_err(bad)
}

/// Locates each storage's bytes after the pickles. Element sizes come from the storage types
/// the main pickle declares, and every count is checked against the bytes that remain.
fn legacy_storages<'a>(
    bytes: &'a [u8],
    mut pos: usize,
    main: &Unpickled,
    keys: &Unpickled,
    big_endian: bool,
) -> std::result::Result<HashMap<Rc<str>, &'a [u8]>, String> {
    let declared = declared_storages(main)?;
    let list = keys
        .items(&keys.root)
        .ok_or("the storage key list is missing; the file is corrupt")?;
    let mut out = HashMap::new();
    for key in list {
        let Value::Str(key) = key else {
            return Err("storage key list holds a non-string".into());
        };
        let &(dtype, numel) = declared
            .get(key)
            .ok_or_else(|| format!("storage `{key}` is stored but never used"))?;
        let raw: [u8; 8] = bytes
            .get(pos..pos + 8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format!("file ends before storage `{key}`; it is truncated: download it again")
            })?;
        let count = if big_endian {
            u64::from_be_bytes(raw)
        } else {
            u64::from_le_bytes(raw)
        };
        if count != numel {
            return Err(format!(
                "storage `{key}` holds {count} elements, the pickle says {numel}; the file is corrupt"
            ));
        }
        let left = (bytes.len() - pos - 8) as u64;
        let len = count
            .checked_mul(dtype.size() as u64)
            .filter(|&n| n <= left)
            .ok_or_else(|| {
                format!(
                    "storage `{key}` declares {count} elements but the file holds only {} \
                     ({left} bytes) after its count; it is truncated: download it again",
                    left / dtype.size() as u64
                )
            })?;
        let start = pos + 8;
        pos = start + len as usize;
        if out.insert(Rc::clone(key), &bytes[start..pos]).is_some() {
            return Err(format!("storage `{key}` is stored twice"));
        }
    }
    Ok(out)
}

/// Element type and count of every storage the main pickle names.
fn declared_storages(
    main: &Unpickled,
) -> std::result::Result<HashMap<Rc<str>, (DType, u64)>, String> {
    let mut declared = HashMap::new();
    for s in main.storages() {
        let previous = declared.insert(Rc::clone(&s.key), (s.dtype, s.numel));
        if previous.is_some_and(|p| p != (s.dtype, s.numel)) {
            return Err(format!(
                "storage `{}` is declared twice, differently",
                s.key
            ));
        }
    }
    Ok(declared)
}

/// Finds the state dict (unwrapping training checkpoints) and lists its tensors in file order.
fn state_dict_tensors(un: &Unpickled) -> std::result::Result<Vec<(String, TensorRef)>, String> {
    let mut dict = un
        .dict(&un.root)
        .ok_or("the checkpoint holds no dict of tensors; save `model.state_dict()`")?;
    // Bounded: a wrapper nested in itself must not loop.
    for _ in 0..WRAPPERS.len() {
        match WRAPPERS
            .iter()
            .find_map(|w| dict.get(w).and_then(|v| un.dict(v)))
        {
            Some(inner) => dict = inner,
            None => break,
        }
    }
    let mut out = Vec::new();
    for (key, value) in &dict.entries {
        if let (pickle::DictKey::Str(k), Some(t)) = (key, un.tensor(value)) {
            out.push((k.to_string(), t.clone()));
        }
    }
    if out.is_empty() {
        let keys: Vec<String> = dict
            .entries
            .iter()
            .take(10)
            .map(|(k, _)| format!("{k:?}"))
            .collect();
        return Err(format!(
            "found no tensors in the checkpoint (first keys: {}); save `model.state_dict()`",
            keys.join(", ")
        ));
    }
    Ok(out)
}

/// Copies every float tensor out of its storage into a contiguous f32 buffer, honouring the
/// storage offset and strides; integer tensors (counters) are skipped.
fn materialize<'a>(
    entries: &[(String, TensorRef)],
    lookup: impl Fn(&str) -> Option<&'a [u8]>,
    big_endian: bool,
    budget: &mut Budget,
) -> std::result::Result<Vec<(String, Tensor)>, String> {
    let mut out = Vec::with_capacity(entries.len());
    for (key, t) in entries {
        if !t.storage.dtype.is_float() {
            continue;
        }
        let bytes = lookup(&t.storage.key).ok_or_else(|| {
            format!(
                "`{key}`: storage `{}` is missing from the file",
                t.storage.key
            )
        })?;
        let shape =
            shape_of(t).ok_or_else(|| format!("`{key}`: shape {:?} is too large", t.shape))?;
        let numel: usize = shape.iter().product();
        budget.spend((numel as u64).saturating_mul(4), &format!("`{key}`"))?;
        let data = gather(t, numel, bytes, big_endian).map_err(|m| format!("`{key}`: {m}"))?;
        out.push((key.clone(), Tensor { shape, data }));
    }
    Ok(out)
}

fn shape_of(t: &TensorRef) -> Option<Vec<usize>> {
    let shape: Vec<usize> = t
        .shape
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<_>>()?;
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    Some(shape)
}

/// Checks that every element the view reaches lies inside its storage window, and the window
/// inside the bytes present. All arithmetic is checked: the numbers come from the file. The
/// messages give the true counts: what the tensor reaches, what the pickle declares and what
/// the file holds (a cut file holds fewer elements than it declares).
fn check_reach(t: &TensorRef, bytes_len: usize) -> std::result::Result<(), String> {
    let s = &t.storage;
    let mut last = Some(u128::from(t.offset));
    for (&n, &st) in t.shape.iter().zip(&t.stride) {
        let step = u128::from(n.saturating_sub(1)).checked_mul(u128::from(st));
        last = last.zip(step).and_then(|(a, b)| a.checked_add(b));
    }
    let Some(last) = last.filter(|&l| l < u128::from(s.len)) else {
        let reach = last.map_or("beyond 2^128".into(), |l| (l + 1).to_string());
        return Err(format!(
            "offset {} with shape {:?} and strides {:?} needs {reach} elements of its storage, \
             which declares {}; the file is corrupt: download it again",
            t.offset, t.shape, t.stride, s.len
        ));
    };
    let window_end = u128::from(s.base) + u128::from(s.len);
    let held = bytes_len / s.dtype.size();
    if window_end > held as u128 {
        let needs = u128::from(s.base) + last + 1;
        return Err(format!(
            "storage `{}` should hold {window_end} elements (the tensor needs {needs} of them) \
             but holds only {held} ({bytes_len} bytes); the file is truncated: download it again",
            s.key
        ));
    }
    Ok(())
}

fn gather(
    t: &TensorRef,
    numel: usize,
    bytes: &[u8],
    big_endian: bool,
) -> std::result::Result<Vec<f32>, String> {
    if numel == 0 {
        return Ok(Vec::new());
    }
    check_reach(t, bytes.len())?;
    let s = &t.storage;
    let es = s.dtype.size();
    // Strides of size-1 dims never move the position; zeroing them keeps every step within
    // the reach `check_reach` bounded, so the arithmetic below cannot overflow.
    let strides: Vec<usize> = t
        .stride
        .iter()
        .zip(&t.shape)
        .map(|(&x, &n)| if n == 1 { 0 } else { x as usize })
        .collect();
    let shape: Vec<usize> = t.shape.iter().map(|&x| x as usize).collect();
    let mut out = Vec::with_capacity(numel);
    let mut idx = vec![0usize; shape.len()];
    let mut at = (s.base + t.offset) as usize;
    // Odometer over the indices in row-major order; `at` follows the strided element position.
    loop {
        out.push(s.dtype.to_f32(&bytes[at * es..(at + 1) * es], big_endian));
        let mut d = shape.len();
        loop {
            if d == 0 {
                return Ok(out);
            }
            d -= 1;
            idx[d] += 1;
            at += strides[d];
            if idx[d] < shape[d] {
                break;
            }
            at -= strides[d] * shape[d];
            idx[d] = 0;
        }
    }
}
