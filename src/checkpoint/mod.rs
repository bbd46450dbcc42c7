//! Checkpoint import without Python. `.safetensors`, PyTorch zip (`torch.save` since 1.6),
//! legacy `.pth` and MindSpore `.ckpt` files all become one flat map of row-major f32 tensors;
//! the key schemes of timm, torchvision and efficientnet_pytorch are told apart, and the last is
//! renamed to timm's.
//!
//! Every length, count and size read from a file is checked against the file before anything is
//! allocated, and pickles go through a restricted reader (`pickle.rs`) that never executes code,
//! so a hostile or damaged file yields an error, not a panic, a hang or a huge allocation.

mod framework_keys;
mod keys;
mod mindspore;
mod pickle;
mod safetensors_io;
mod torch;

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

pub(crate) use framework_keys::{
    mindcv_to_torchvision, mindvision_to_torchvision, mmpretrain_to_timm,
};
pub use keys::{KeyScheme, detect_scheme, efficientnet_pytorch_to_timm};
pub use safetensors_io::{encode_safetensors, save_safetensors};

/// Metadata key under which the safetensors and MindSpore readers list the integer and bool
/// tensors they left out, as a JSON object of name to dtype (`{"w": "BOOL"}`), so that a weight
/// stored with such a dtype is reported as that rather than as missing. Never written to files.
pub const META_SKIPPED: &str = "effnet.skipped_dtypes";

/// A dense tensor: `data` holds `shape.iter().product()` values in row-major order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The float tensors of a checkpoint by key, plus the string metadata a safetensors file carries
/// in `__metadata__` (empty for PyTorch files).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDict {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

/// Loads a checkpoint, telling the format from its content rather than its name (hubs ship
/// `.bin`, `.pt`, `.pth` and `.pth.tar` for the same zip format).
///
/// Integer and bool tensors (e.g. BatchNorm's `num_batches_tracked` counters) are left out, since
/// inference needs none of them; floats of every width become f32. A `module.` prefix (left by
/// `DataParallel`) is stripped and training wrappers (`state_dict_ema`, `model_ema`, `state_dict`,
/// `model`, preferred in that order, as timm does) are unwrapped.
pub fn load(path: &Path) -> Result<StateDict> {
    // Only regular files are read: a device such as /dev/zero never ends, a pipe may block.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "is a folder"
        } else {
            "is not a regular file (a device, pipe or socket)"
        };
        return Err(Error::bad_file(
            path,
            format!("{what}; give a checkpoint file (.safetensors, .pth, .pt, .bin or .ckpt)"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    load_bytes(path, &bytes)
}

/// Like [`load`], for a checkpoint already in memory (e.g. embedded with `include_bytes!`);
/// `path` only names it in error messages.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<StateDict> {
    let (tensors, metadata) = match sniff(path, bytes) {
        Format::Safetensors => safetensors_io::load(path, bytes)?,
        Format::TorchZip => torch::load_zip(path, bytes)?,
        Format::TorchLegacy => (torch::load_legacy(path, bytes)?, BTreeMap::new()),
        Format::MindSpore => mindspore::load(path, bytes)?,
        Format::Tar => {
            return Err(Error::bad_file(
                path,
                "this is a tar-format checkpoint from PyTorch < 0.4, which is not supported; \
                 load it with PyTorch and save `model.state_dict()` again, or convert it to safetensors",
            ));
        }
        Format::Unknown => {
            return Err(Error::bad_file(
                path,
                "not a checkpoint this program can read; expected a .safetensors file, a \
                 PyTorch .pth/.pt/.bin file written by `torch.save` or a MindSpore .ckpt file \
                 (the file may also be an HTML error page or a git-lfs pointer: download it again)",
            ));
        }
    };
    clean(path, tensors, metadata)
}

/// Entry points for the fuzz targets in `fuzz/`: each format's reader on raw bytes, without
/// the format sniffing, so the fuzzer reaches every reader directly.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    pub fn safetensors(bytes: &[u8]) -> Result<usize> {
        Ok(safetensors_io::load(Path::new("fuzz"), bytes)?.0.len())
    }
    pub fn torch_zip(bytes: &[u8]) -> Result<usize> {
        Ok(torch::load_zip(Path::new("fuzz"), bytes)?.0.len())
    }
    pub fn torch_legacy(bytes: &[u8]) -> Result<usize> {
        Ok(torch::load_legacy(Path::new("fuzz"), bytes)?.len())
    }
    pub fn mindspore(bytes: &[u8]) -> Result<usize> {
        Ok(mindspore::load(Path::new("fuzz"), bytes)?.0.len())
    }
}

enum Format {
    Safetensors,
    TorchZip,
    TorchLegacy,
    MindSpore,
    Tar,
    Unknown,
}

/// Tells the format from the content; the name counts only for `.safetensors` and `.ckpt` files
/// whose content matches no format, so that a damaged or encrypted file gets its own format's
/// message (PyTorch Lightning's `.ckpt` files are zips and are caught by their content first).
fn sniff(path: &Path, bytes: &[u8]) -> Format {
    // safetensors first: its u64 header length may start with any byte, 0x80 included.
    // Zip and pickle files cannot pass this test (their 9th byte is never `{`). The length
    // itself is not checked here: a damaged one must get the safetensors reader's error
    // ("header larger than the file"), not a pickle reader's.
    if bytes.get(8) == Some(&b'{') {
        return Format::Safetensors;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Format::TorchZip;
    }
    // A file named .safetensors that no content test claims is a damaged safetensors file
    // (cut inside its length or header), so the safetensors reader says what is wrong.
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
    {
        return Format::Safetensors;
    }
    // Every pickle written with protocol >= 2 opens with PROTO; the legacy reader then checks
    // the magic number itself, so a bare pickle gets an error from the same careful path.
    if bytes.first() == Some(&0x80) {
        return Format::TorchLegacy;
    }
    if bytes.get(257..262) == Some(b"ustar") {
        return Format::Tar;
    }
    let ckpt_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ckpt"));
    if ckpt_name || mindspore::looks_like(bytes) {
        return Format::MindSpore;
    }
    Format::Unknown
}

/// Applies the key clean-ups that every format shares, and refuses non-finite values: a NaN
/// or infinite weight (a diverged run, a damaged file) makes every answer meaningless.
fn clean(
    path: &Path,
    tensors: Vec<(String, Tensor)>,
    metadata: BTreeMap<String, String>,
) -> Result<StateDict> {
    let mut out = BTreeMap::new();
    for (key, tensor) in tensors {
        if key.ends_with("num_batches_tracked") {
            continue;
        }
        let key = key
            .strip_prefix("module.")
            .map(str::to_owned)
            .unwrap_or(key);
        if let Some(i) = tensor.data.iter().position(|v| !v.is_finite()) {
            let bad = tensor.data.iter().filter(|v| !v.is_finite()).count();
            return Err(Error::bad_file(
                path,
                format!(
                    "tensor `{key}` holds {bad} non-finite values (the first, {}, at element \
                     {i}); the checkpoint is damaged or comes from a diverged training run: use \
                     another checkpoint",
                    tensor.data[i]
                ),
            ));
        }
        if out.contains_key(&key) {
            return Err(Error::bad_file(
                path,
                format!(
                    "key `{key}` occurs twice once the `module.` prefix is removed; \
                     the checkpoint mixes wrapped and unwrapped weights: save only one of them"
                ),
            ));
        }
        out.insert(key, tensor);
    }
    Ok(StateDict {
        tensors: out,
        metadata,
    })
}

/// Element types found in checkpoints. Only the float ones are converted; the rest are known so
/// that their storages can be sized (legacy files) and skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    pub(crate) fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, DType::F64 | DType::F32 | DType::F16 | DType::BF16)
    }

    /// Converts one float element (`raw.len() == self.size()`) to f32.
    pub(crate) fn to_f32(self, raw: &[u8], big_endian: bool) -> f32 {
        let mut b = [0u8; 8];
        let b = &mut b[..raw.len()];
        b.copy_from_slice(raw);
        if big_endian {
            b.reverse();
        }
        match self {
            DType::F64 => f64::from_le_bytes(b.try_into().unwrap_or_default()) as f32,
            DType::F32 => f32::from_le_bytes(b.try_into().unwrap_or_default()),
            DType::F16 => half::f16::from_le_bytes(b.try_into().unwrap_or_default()).to_f32(),
            DType::BF16 => half::bf16::from_le_bytes(b.try_into().unwrap_or_default()).to_f32(),
            // Callers convert float storages only; integers never reach here.
            _ => f32::NAN,
        }
    }

    /// Converts a contiguous run of elements; `raw.len()` must be a multiple of the size.
    pub(crate) fn decode(self, raw: &[u8], big_endian: bool) -> Vec<f32> {
        raw.chunks_exact(self.size())
            .map(|c| self.to_f32(c, big_endian))
            .collect()
    }
}
