//! The one error type of the crate. Every message says what went wrong and what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown model '{name}'{suggestion}; known models (`effnet models`): {known}")]
    UnknownModel {
        name: String,
        /// ` (did you mean 'NAME'?)` for the closest known name, or empty.
        suggestion: String,
        known: String,
    },

    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },

    #[error(
        "{path}: refusing to load: the pickle asks for `{global}`, which a plain state dict never \
         needs (pickles can run code through such names); load it only if you trust it, in Python, \
         and save `model.state_dict()` or convert it to safetensors"
    )]
    UnsafePickle { path: PathBuf, global: String },

    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}; check that its folder exists and is writable")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("shape mismatch for {what}: expected {expected:?}, got {got:?}")]
    Shape {
        what: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },

    #[error("weights do not fit the model:\n{report}")]
    Weights { report: String },

    #[error("invalid input: {0}")]
    Input(String),

    #[error(
        "no GPU adapter found (backends tried: {backends}); install a Vulkan driver \
         (e.g. `apt-get install mesa-vulkan-drivers` for the CPU driver lavapipe) or set WGPU_BACKEND"
    )]
    NoAdapter { backends: String },

    #[error("{what} needs {needed} {unit} but the device allows at most {limit} {unit}; {hint}")]
    DeviceLimit {
        what: String,
        needed: u64,
        limit: u64,
        /// What `needed` and `limit` count: "bytes", "workgroups", "channels".
        unit: &'static str,
        hint: String,
    },

    #[error(
        "GPU error: {0}; effnet checks sizes and inputs first, so this points to a bug in effnet \
         or the driver: please report it with the adapter (`effnet info`, `Engine::describe`)"
    )]
    Gpu(String),

    #[error(
        "the GPU device was lost ({reason}); the driver reset or the device was removed: drop \
         this Engine and everything made from it, then create a new Engine"
    )]
    DeviceLost { reason: String },

    #[error(
        "the GPU ran out of memory for {what} ({message}); use a smaller batch or resolution, \
         or free GPU memory held by other sessions or programs"
    )]
    OutOfMemory { what: String, message: String },

    /// Image bytes that are empty, of an unknown format, truncated or corrupt.
    #[error("{origin}: cannot decode the image: {message}; expected a complete JPEG or PNG file")]
    ImageDecode { origin: String, message: String },

    /// A header declaring more pixels or bytes than `preprocess::ImageLimits` allows.
    #[error(
        "{origin}: the image is {width}x{height} and needs {needed}, over \
         ImageLimits::{limit_name} = {limit}; raise that limit if you trust the file"
    )]
    ImageTooLarge {
        origin: String,
        width: u32,
        height: u32,
        needed: u64,
        limit: u64,
        limit_name: &'static str,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
