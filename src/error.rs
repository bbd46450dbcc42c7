//! The one error type of the crate. Every message says what went wrong and what to do next.

use std::path::PathBuf;

/// Everything that can go wrong in effnet. The message (`Display`) says what happened and what
/// to do; the fields are there for programs that handle some cases themselves. New variants may
/// be added, so a `match` needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model name that is not one of `effnet models`.
    #[error("unknown model '{name}'{suggestion}; known models (`effnet models`): {known}")]
    UnknownModel {
        /// The name as given.
        name: String,
        /// ` (did you mean 'NAME'?)` for the closest known name, or empty.
        suggestion: String,
        /// Every known name, comma separated.
        known: String,
    },

    /// A file that is not what it should be (damaged, truncated, of the wrong format).
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// A PyTorch pickle that asks for code a state dict never needs; nothing was executed.
    #[error(
        "{path}: refusing to load: the pickle asks for `{global}`, which a plain state dict never \
         needs (pickles can run code through such names); load it only if you trust it, in Python, \
         and save `model.state_dict()` or convert it to safetensors"
    )]
    UnsafePickle {
        /// The checkpoint.
        path: PathBuf,
        /// The Python name the pickle asks for.
        global: String,
    },

    /// A file that cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A file that cannot be written.
    #[error("cannot write {path}: {source}; check that its folder exists and is writable")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A tensor (a weight, or a run's input) of the wrong shape.
    #[error("shape mismatch for {what}: expected {expected:?}, got {got:?}")]
    Shape {
        /// Which tensor.
        what: String,
        /// The shape it needs.
        expected: Vec<usize>,
        /// The shape (or length) it has.
        got: Vec<usize>,
    },

    /// A checkpoint whose tensors do not fit the model: missing, extra or misshapen ones.
    #[error("weights do not fit the model:\n{report}")]
    Weights {
        /// Which tensors, one per line.
        report: String,
    },

    /// A wrong argument: a size, a count, a session used for what it was not made for.
    #[error("invalid input: {0}")]
    Input(String),

    /// No GPU adapter (not even a software one) on any backend.
    #[error(
        "no GPU adapter found (backends tried: {backends}); install a Vulkan driver \
         (e.g. `apt-get install mesa-vulkan-drivers` for the CPU driver lavapipe) or set WGPU_BACKEND"
    )]
    NoAdapter {
        /// The wgpu backends searched.
        backends: String,
    },

    /// In a browser: no WebGPU adapter (the browser lacks WebGPU, or it is turned off).
    #[error(
        "this browser gives no WebGPU adapter; use a browser with WebGPU (Chrome or Edge 113+, \
         Firefox 141+, Safari 26+), turn on hardware acceleration, or on Linux enable \
         chrome://flags/#enable-unsafe-webgpu"
    )]
    NoWebGpu {
        /// What wgpu said (which backends it has: in a browser, only WebGPU).
        reason: String,
    },

    /// A batch, resolution or model beyond the device's limits; checked before allocating.
    #[error("{what} needs {needed} {unit} but the device allows at most {limit} {unit}; {hint}")]
    DeviceLimit {
        /// What needs it (a tensor, a dispatch).
        what: String,
        /// How much it needs.
        needed: u64,
        /// How much the device allows.
        limit: u64,
        /// What `needed` and `limit` count: "bytes", "workgroups", "channels".
        unit: &'static str,
        /// What fits instead: the largest batch or resolution.
        hint: String,
    },

    /// An error wgpu reported that effnet's checks did not foresee.
    #[error(
        "GPU error: {0}; effnet checks sizes and inputs first, so this points to a bug in effnet \
         or the driver: please report it with the adapter (`effnet info`, `Engine::describe`)"
    )]
    Gpu(String),

    /// The device was lost; everything made from the `Engine` is unusable.
    #[error(
        "the GPU device was lost ({reason}); the driver reset or the device was removed: drop \
         this Engine and everything made from it, then create a new Engine"
    )]
    DeviceLost {
        /// The driver's reason.
        reason: String,
    },

    /// The GPU ran out of memory.
    #[error(
        "the GPU ran out of memory for {what} ({message}); use a smaller batch or resolution, \
         or free GPU memory held by other sessions or programs"
    )]
    OutOfMemory {
        /// What was being allocated.
        what: String,
        /// wgpu's message.
        message: String,
    },

    /// A failure on one device of a [`Pool`](crate::Pool): which device and, where it was
    /// running one, which batch; the cause (`source`) is the error the device gave.
    #[error("{device}{}: {source}", batch_text(*.batch, *.first_image))]
    OnDevice {
        /// The device: its place in the pool and its adapter.
        device: String,
        /// The batch it was running (counted from 0 in input order), if any.
        batch: Option<usize>,
        /// That batch's first image (counted from 0 in input order).
        first_image: Option<usize>,
        /// What went wrong there.
        #[source]
        source: Box<Error>,
    },

    /// Image bytes that are empty, of an unknown format, truncated or corrupt.
    #[error("{origin}: cannot decode the image: {message}; expected a complete JPEG or PNG file")]
    ImageDecode {
        /// The file, or what the bytes were called.
        origin: String,
        /// The decoder's message.
        message: String,
    },

    /// A header declaring more pixels or bytes than `preprocess::ImageLimits` allows.
    #[error(
        "{origin}: the image is {width}x{height} and needs {needed} {unit}, over the limit \
         ImageLimits::{limit_name} = {limit} {unit}; downscale it first (e.g. ImageMagick's \
         `convert IN -resize 4000x4000 OUT`), or, in a program using the library, raise \
         ImageLimits::{limit_name} if you trust the file (the command line has no option for it)",
        unit = if *limit_name == "max_pixels" { "pixels" } else { "bytes" }
    )]
    ImageTooLarge {
        /// The file, or what the bytes were called.
        origin: String,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Pixels or bytes it needs.
        needed: u64,
        /// The limit it exceeds.
        limit: u64,
        /// `max_pixels` or `max_alloc`.
        limit_name: &'static str,
    },
}

/// ", batch 3 (from image 6)" for `Error::OnDevice`, or nothing before any batch ran.
fn batch_text(batch: Option<usize>, first_image: Option<usize>) -> String {
    match (batch, first_image) {
        (Some(b), Some(i)) => format!(", batch {b} (from image {i})"),
        _ => String::new(),
    }
}

/// `Result` with effnet's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// `Error::BadFile` for `path`.
    pub fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            message: message.into(),
        }
    }

    /// `Error::Io` for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
