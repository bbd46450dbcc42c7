//! How values are stored and computed: the precision a user asks for, the storage format
//! the kernels' bindings take on an adapter, the type the GPU family multiplies in, and
//! where the WGSL is compiled.

/// How values sit in the storage buffers the kernels read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    F32,
    /// Native `f16` (the adapter has SHADER_F16).
    F16,
    /// f16 pairs packed in `u32` words, for adapters without SHADER_F16.
    F16Packed,
}

impl Storage {
    pub const ALL: [Storage; 3] = [Storage::F32, Storage::F16, Storage::F16Packed];

    /// The storage for `precision` on an adapter with (or without) native f16.
    pub(crate) fn for_precision(precision: Precision, native_f16: bool) -> Self {
        match (precision, native_f16) {
            (Precision::F32, _) => Storage::F32,
            (Precision::F16, true) => Storage::F16,
            (Precision::F16, false) => Storage::F16Packed,
        }
    }
}

/// Where a kernel's WGSL is compiled: by naga (native backends) or by the browser's own
/// WebGPU, to which wgpu hands the source as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Native,
    Browser,
}

impl Target {
    /// This build's: `Browser` on `wasm32`.
    pub(crate) const CURRENT: Target = if cfg!(target_arch = "wasm32") {
        Target::Browser
    } else {
        Target::Native
    };
}

/// How weights and activations are stored. Arithmetic is f32, except where the GPU family
/// multiplies in f16 over native f16 storage ([`Arithmetic`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    /// Half-precision storage: native `f16` where the adapter has SHADER_F16, packed pairs
    /// (`pack2x16float`) elsewhere.
    F16,
}

impl Precision {
    /// Bytes per stored value.
    pub(crate) fn bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }

    /// Parses `f32` or `f16` (as the command line's `--precision` takes them).
    pub fn parse(s: &str) -> crate::Result<Self> {
        match s {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            _ => Err(crate::Error::Input(format!(
                "unknown precision {s:?}; use f32 or f16"
            ))),
        }
    }
}

/// The type the GPU family stages tiles in and multiplies in (`H` in its WGSL). `F16`
/// needs native f16 storage ([`Storage::F16`], SHADER_F16): there each run of multiply-adds
/// (a pointwise or conv K-slice, a depthwise window) sums in f16, and the runs add up in
/// f32, as do biases, activations and the SE and classifier sums, so the goldens' f16
/// tolerances hold. Elsewhere `H` is f32, as it always is in the CPU family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Arithmetic {
    #[default]
    F32,
    F16,
}

impl Arithmetic {
    /// What a kernel with `storage` gets when `self` is asked for: f16 only over native f16.
    pub(crate) fn with(self, storage: Storage) -> Arithmetic {
        match (self, storage) {
            (Arithmetic::F16, Storage::F16) => Arithmetic::F16,
            _ => Arithmetic::F32,
        }
    }

    /// The WGSL declaring `H` (and `F16_MATH`, for code that flushes f16 runs into f32).
    pub(crate) fn wgsl(self) -> &'static str {
        match self {
            Arithmetic::F32 => "alias H = f32;\nconst F16_MATH = false;\n",
            Arithmetic::F16 => "alias H = f16;\nconst F16_MATH = true;\n",
        }
    }
}
