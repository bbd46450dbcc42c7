//! One module per GPU kernel, holding everything about it but the WGSL body (which stays in
//! `shaders/NAME.wgsl` and is included from here): its tile constants, passed to the WGSL as
//! override constants so Rust is their only source; its typed uniform parameters, whose WGSL
//! struct is generated from the Rust one; its weight layout; how an op becomes its dispatch;
//! its cost; the one-op cases `cargo bench` times; and a test of those cases against
//! `reference.rs`. Retuning or adding a kernel is a change to one of these files (and its
//! shader).
//!
//! Pure data: nothing here touches the GPU. `gpu::` uploads the weights and makes the
//! pipelines, `runtime::` binds and runs the dispatches described here.

use crate::gpu::Tuning;
use crate::graph::ops::{ConvGeom, Graph, Op, TensorId};
use crate::model::Activation;
use crate::model::weights::{ConvKind, ConvWeights};

/// Defines a kernel's uniform parameter block: a `#[repr(C)]` struct of `u32` / `f32`
/// fields and, from the same field list, its WGSL declaration bound as `P` (binding 0,
/// `gpu::pipelines::binding::PARAMS`), so the two cannot drift apart. The kernel's module
/// source gets the declaration in front of the shader body.
macro_rules! params {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ident,)* }) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            /// The WGSL struct and the uniform `P` that holds it.
            pub const WGSL: &'static str = concat!(
                "struct ", stringify!($name), " {\n",
                $("    ", stringify!($field), ": ", stringify!($ty), ",\n",)*
                "}\n@group(0) @binding(0) var<uniform> P: ", stringify!($name), ";\n"
            );
            /// Each field's name and byte offset, to check against the WGSL layout.
            pub const FIELDS: &'static [(&'static str, usize)] =
                &[$((stringify!($field), core::mem::offset_of!($name, $field)),)*];
        }
    };
}
// For the head-training kernels' parameter block (src/train/kernels.rs).
pub(crate) use params;

mod case;
#[cfg(test)]
mod check;
pub mod classifier;
pub mod conv;
pub mod depthwise;
mod family;
pub mod gpu_family;
pub mod pointwise;
pub mod se;

pub use case::Case;
pub use family::{Family, KERNELS_ENV};

/// The WGSL kernels; each is compiled with the shared prelude in front
/// (`gpu::pipelines::Kernel::source`). The `Gpu*` ones are the GPU family's
/// (`gpu_family`), which take the same parameters and weights as their CPU-family namesakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Conv,
    Depthwise,
    SeExcite,
    Pointwise,
    Classifier,
    GpuConv,
    GpuDepthwise,
    GpuSeExcite,
    GpuPointwise,
    GpuClassifier,
}

impl Kernel {
    pub const ALL: [Kernel; 10] = [
        Kernel::Conv,
        Kernel::Depthwise,
        Kernel::SeExcite,
        Kernel::Pointwise,
        Kernel::Classifier,
        Kernel::GpuConv,
        Kernel::GpuDepthwise,
        Kernel::GpuSeExcite,
        Kernel::GpuPointwise,
        Kernel::GpuClassifier,
    ];

    /// The kernel's own WGSL (shaders/NAME.wgsl, shaders/gpu_family/NAME.wgsl).
    pub fn body(self) -> &'static str {
        match self {
            Kernel::Conv => conv::WGSL,
            Kernel::Depthwise => depthwise::WGSL,
            Kernel::SeExcite => se::WGSL,
            Kernel::Pointwise => pointwise::WGSL,
            Kernel::Classifier => classifier::WGSL,
            Kernel::GpuConv => gpu_family::conv::WGSL,
            Kernel::GpuDepthwise => gpu_family::depthwise::WGSL,
            Kernel::GpuSeExcite => gpu_family::se::WGSL,
            Kernel::GpuPointwise => gpu_family::pointwise::WGSL,
            Kernel::GpuClassifier => gpu_family::classifier::WGSL,
        }
    }

    /// The WGSL declaration of its parameter block `P`.
    pub fn params_wgsl(self) -> &'static str {
        match self.cpu_namesake() {
            Kernel::Conv => conv::ConvParams::WGSL,
            Kernel::Depthwise => depthwise::DepthwiseParams::WGSL,
            Kernel::SeExcite => se::SeParams::WGSL,
            Kernel::Pointwise => pointwise::PointwiseParams::WGSL,
            _ => classifier::ClassifierParams::WGSL,
        }
    }

    /// The family it belongs to.
    pub fn family(self) -> Family {
        if self == self.cpu_namesake() {
            Family::Cpu
        } else {
            Family::Gpu
        }
    }

    /// The CPU-family kernel computing the same op (itself for CPU-family kernels).
    pub fn cpu_namesake(self) -> Kernel {
        match self {
            Kernel::GpuConv => Kernel::Conv,
            Kernel::GpuDepthwise => Kernel::Depthwise,
            Kernel::GpuSeExcite => Kernel::SeExcite,
            Kernel::GpuPointwise => Kernel::Pointwise,
            Kernel::GpuClassifier => Kernel::Classifier,
            k => k,
        }
    }

    /// The GPU-family kernel computing the same op.
    fn gpu_namesake(self) -> Kernel {
        match self {
            Kernel::Conv => Kernel::GpuConv,
            Kernel::Depthwise => Kernel::GpuDepthwise,
            Kernel::SeExcite => Kernel::GpuSeExcite,
            Kernel::Pointwise => Kernel::GpuPointwise,
            Kernel::Classifier => Kernel::GpuClassifier,
            k => k,
        }
    }

    /// Whether it reads k×k row taps (shaders/taps.wgsl).
    pub fn uses_taps(self) -> bool {
        matches!(self, Kernel::Conv | Kernel::Depthwise)
    }
}

/// Override constants of one pipeline, e.g. `[("K", 3), ("STRIDE", 2), ("ACT", 1)]`.
pub type Constants = Vec<(&'static str, u32)>;

/// A dispatch's uniform parameters, typed by its kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Params {
    Conv(conv::ConvParams),
    Depthwise(depthwise::DepthwiseParams),
    Se(se::SeParams),
    Pointwise(pointwise::PointwiseParams),
    Classifier(classifier::ClassifierParams),
}

impl Params {
    /// The kernel these parameters are for.
    pub fn kernel(&self) -> Kernel {
        match self {
            Params::Conv(_) => Kernel::Conv,
            Params::Depthwise(_) => Kernel::Depthwise,
            Params::Se(_) => Kernel::SeExcite,
            Params::Pointwise(_) => Kernel::Pointwise,
            Params::Classifier(_) => Kernel::Classifier,
        }
    }

    /// The bytes of the uniform block.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Params::Conv(p) => bytemuck::bytes_of(p),
            Params::Depthwise(p) => bytemuck::bytes_of(p),
            Params::Se(p) => bytemuck::bytes_of(p),
            Params::Pointwise(p) => bytemuck::bytes_of(p),
            Params::Classifier(p) => bytemuck::bytes_of(p),
        }
    }
}

/// Which weights an op reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightRef {
    Conv(usize),
    Se(usize),
    Classifier,
}

/// What is bound to the shared `aux` binding (shaders/storage.wgsl): no kernel needs more
/// than one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aux {
    None,
    /// A tensor: the SE gate a GEMM reads, or SE partial sums (depthwise writes, SE reads).
    Tensor(TensorId),
    /// A scratch buffer of at least this many values (the classifier's pooled features).
    Scratch(usize),
}

/// One dispatch, described without touching the GPU.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatchDesc {
    /// Which family's kernel runs it (the parameters name the op).
    pub family: Family,
    pub constants: Constants,
    pub params: Params,
    pub weights: WeightRef,
    pub src: Option<TensorId>,
    pub aux: Aux,
    pub residual: Option<TensorId>,
    pub dst: TensorId,
    pub workgroups: [u32; 3],
}

impl DispatchDesc {
    fn new(params: Params, weights: WeightRef, src: TensorId, dst: TensorId) -> Self {
        DispatchDesc {
            family: Family::Cpu,
            constants: vec![],
            params,
            weights,
            src: Some(src),
            aux: Aux::None,
            residual: None,
            dst,
            workgroups: [1, 1, 1],
        }
    }

    pub fn kernel(&self) -> Kernel {
        match self.family {
            Family::Gpu => self.params.kernel().gpu_namesake(),
            // (`describe` settles `Auto` op by op: a description never holds it.)
            Family::Cpu | Family::Auto => self.params.kernel(),
        }
    }
}

/// Describes op `op` of `g` for `family`, with the adapter's tuned shapes: the CPU
/// family's pointwise channel block (`Tuning::pointwise_co`) and the compute units the GPU
/// family sizes its grids for (`Tuning::gpu_units`). An op the GPU family has no kernel for
/// (`gpu_family::describe` says which) runs the CPU family's; `Auto` takes the GPU family's
/// where `gpu_family::preferred` says it measured faster.
pub fn describe(g: &Graph, op: &Op, tuning: &Tuning, family: Family) -> DispatchDesc {
    let gpu = match family {
        Family::Gpu => true,
        Family::Auto => gpu_family::preferred(g, op),
        Family::Cpu => false,
    };
    if gpu && let Some(d) = gpu_family::describe(g, op, tuning.gpu_units as usize) {
        return d;
    }
    match op {
        Op::Conv(op) => conv::describe(g, op),
        Op::Depthwise(op) => depthwise::describe(g, op),
        Op::SeExcite(op) => se::describe(g, op),
        Op::Pointwise(op) => pointwise::describe(g, op, tuning.pointwise_co),
        Op::PoolClassify(op) => classifier::describe(g, op),
    }
}

/// Floating point operations (2 per multiply-add) and bytes read + written (in f32) of op
/// `op` of `g`.
pub fn cost(g: &Graph, op: &Op) -> (u64, u64) {
    match op {
        Op::Conv(op) => conv::cost(g, op),
        Op::Depthwise(op) => depthwise::cost(g, op),
        Op::SeExcite(op) => se::cost(g, op),
        Op::Pointwise(op) => pointwise::cost(g, op),
        Op::PoolClassify(op) => classifier::cost(g, op),
    }
}

/// One conv layer's weights as its kernel reads them.
pub fn conv_layout(c: &ConvWeights) -> Vec<f32> {
    match c.kind {
        ConvKind::Gemm => pointwise::layout(c),
        ConvKind::Depthwise { k } => depthwise::layout(c, k),
        ConvKind::Dense { k } => conv::layout(c, k),
    }
}

/// `ACT` in shaders/prelude.wgsl.
fn act_code(a: Activation) -> u32 {
    match a {
        Activation::Identity => 0,
        Activation::Silu => 1,
        Activation::Relu6 => 2,
    }
}

fn u(x: usize) -> u32 {
    x as u32
}

/// Whether a k×k kernel reads the middle 4 taps of each row segment as one aligned vec4
/// (`VEC_TAPS` in shaders/taps.wgsl): stride 1, input rows of 4k values, left padding k / 2
/// (so each invocation's first output column, a multiple of 4, sits at x0 + k / 2).
fn vec_taps(w_in: usize, geom: &ConvGeom) -> bool {
    geom.stride == 1 && w_in.is_multiple_of(4) && geom.pad_left == geom.k / 2
}
