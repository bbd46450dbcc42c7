//! The kernels, as data: nothing here touches the GPU. `gpu::` compiles the sources and
//! uploads the weights, `runtime::` binds and runs the dispatches described here.
//!
//! `ops/` holds what each op means for every family: its typed parameters (`params!`, whose
//! WGSL struct is generated from the Rust one), weight layout, cost and the real-shape cases
//! tests, benches and the tuner share. Two families side by side, one module per op in each:
//! `cpu/` (shaped for CPU Vulkan drivers such as lavapipe; shaders in `shaders/cpu/`) and
//! `gpu/` (shaped for GPUs; `shaders/gpu/`), both reading the same weight layouts and
//! tensors. A family's module for an op holds its tile constants (passed to the WGSL as
//! override constants, so Rust is their only source), how an op becomes its dispatch
//! (`describe`) and its WGSL. `candidates` lists every kernel by name: what `describe`
//! picks from, what `effnet tune` times and the checks run. Around them: [`Kernel`] (an op,
//! a family and a variant name, a value), `source` (a kernel's whole WGSL module: the shared
//! `shaders/common/` prelude, the family's prelude, its parameter block and its shader),
//! `formats` (storage and arithmetic types), `tuning` and `variants` (the per-adapter
//! choices `effnet tune` measures), [`Family`] (which family a session runs, a value its
//! options carry), [`Layout`] (how a session stores activations: NCHW, or for the GPU
//! family channels last, run by `gpu/nhwc/`'s kernels), and `fuse`: which ops a GPU-family
//! session runs as one dispatch.
use crate::graph::ops::{ConvGeom, Graph, Op};
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
        pub(crate) struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            /// The WGSL struct and the uniform `P` that holds it.
            pub(crate) const WGSL: &'static str = concat!(
                "struct ", stringify!($name), " {\n",
                $("    ", stringify!($field), ": ", stringify!($ty), ",\n",)*
                "}\n@group(0) @binding(0) var<uniform> P: ", stringify!($name), ";\n"
            );
            /// Each field's name and byte offset, to check against the WGSL layout (the
            /// layout tests read it).
            #[cfg(test)]
            pub(crate) const FIELDS: &'static [(&'static str, usize)] =
                &[$((stringify!($field), core::mem::offset_of!($name, $field)),)*];
        }
    };
}
// For the head-training kernels' parameter block (src/train/kernels.rs).
pub(crate) use params;

pub(crate) mod candidates;
pub(crate) mod case;
pub(crate) mod cpu;
mod family;
pub(crate) mod formats;
pub(crate) mod gpu;
mod kernel;
pub(crate) mod layout;
pub(crate) mod ops;
pub(crate) mod source;
pub(crate) mod tuning;
pub(crate) mod variants;

pub(crate) use case::Case;
pub use family::{Family, KERNELS_ENV};
pub use kernel::Kernel;
pub(crate) use kernel::{Aux, Constants, DispatchDesc, OpKind, Params, WeightRef};
pub use layout::Layout;
pub(crate) use tuning::Tuning;

/// Describes op `op` of `g` for `family`, with the adapter's tuned shapes: the CPU
/// family's pointwise channel block (`Tuning::pointwise_co`) and the compute units the GPU
/// family sizes its grids for (`Tuning::gpu_units`). An op the GPU family has no kernel for
/// (`gpu::describe` says which) runs the CPU family's; `Auto` takes the GPU family's
/// where `gpu::preferred` says it measured faster. Only kernels of the session's layout
/// (`Tuning::layout`) run; an NHWC session has none of the CPU family's to fall back on, so
/// its executor checks first (`candidates::missing_kernel`).
pub(crate) fn describe(g: &Graph, op: &Op, tuning: &Tuning, family: Family) -> DispatchDesc {
    let gpu = match family {
        Family::Gpu => true,
        Family::Auto => gpu::preferred(g, op),
        Family::Cpu => false,
    };
    let kind = OpKind::of(op);
    let layout = tuning.layout(family);
    let gpu_ones = candidates::tried(kind, Family::Gpu, tuning).filter(|_| gpu);
    (gpu_ones.chain(candidates::tried(kind, Family::Cpu, tuning)))
        .filter(|c| c.layouts.contains(&layout))
        .find_map(|c| candidates::describe_with(c, g, op, tuning))
        .expect("the CPU family's main kernel takes every unfused NCHW op, only GPU-family graphs are fused, and NHWC sessions are checked first")
}

/// `g` as `choice` runs it: for the GPU family, each expansion (and the stem, unless
/// `keep_stages` asks for its output) fused into the depthwise conv after it
/// (`Tuning::gpu_fused_blocks`), and each fused-MBConv conv into its projection
/// (`Tuning::gpu_fused_convs`), or the pairs of a fused kernel `choice` names, wherever a
/// GPU-family kernel takes the pair (`graph::fuse`); for other families and NHWC sessions
/// (no fused kernel reads NHWC yet), fused ops split apart.
pub(crate) fn fuse(
    g: Graph,
    tuning: &Tuning,
    choice: candidates::Choice,
    keep_stages: bool,
) -> Graph {
    use crate::graph::fuse::{conv_project, expand_depthwise, split};
    let g = split(g);
    let nhwc = tuning.layout(choice.family()) == Layout::Nhwc;
    if choice.family() != Family::Gpu || nhwc {
        return g;
    }
    // A fused kernel chosen by name (to check or time it) fuses whatever the tuning says.
    let fuses =
        |kind, tuned| tuned || matches!(choice, candidates::Choice::Kernel(k) if k.op == kind);
    let takes = |g: &Graph, op: Op| {
        (candidates::tried(OpKind::of(&op), Family::Gpu, tuning))
            .any(|c| candidates::describe_with(c, g, &op, tuning).is_some())
    };
    let g = match fuses(OpKind::ExpandDepthwise, tuning.gpu_fused_blocks) {
        true => expand_depthwise(g, keep_stages, |g, f| takes(g, Op::ExpandDepthwise(*f))),
        false => g,
    };
    match fuses(OpKind::ConvProject, tuning.gpu_fused_convs) {
        true => conv_project(g, keep_stages, |g, f| takes(g, Op::ConvProject(*f))),
        false => g,
    }
}

/// Lowers `arch` for a batch of `n` images of `h`×`w` (`graph::lower_with`), its SE sums
/// sized for the kernels' depthwise (`se_partials`).
pub fn lower(arch: &crate::model::Arch, n: usize, h: usize, w: usize) -> crate::Result<Graph> {
    crate::graph::lower_with(arch, (n, h, w), se_partials)
}

/// Partial sums per channel a depthwise op leaves for the SE block after it: one per
/// invocation of the CPU family's depthwise grid, which the GPU family's depthwise matches
/// (`gpu::depthwise`) so that either family's SE reads either family's sums.
pub(crate) fn se_partials(h: usize, w: usize, geom: &ConvGeom) -> usize {
    cpu::depthwise::se_partials(h, w, geom)
}

/// Floating point operations (2 per multiply-add) and bytes read + written (in f32) of op
/// `op` of `g`.
pub fn cost(g: &Graph, op: &Op) -> (u64, u64) {
    use ops::{classifier, conv, depthwise, pointwise, se};
    match op {
        Op::Conv(op) => conv::cost(g, op),
        Op::Depthwise(op) => depthwise::cost(g, op),
        Op::SeExcite(op) => se::cost(g, op),
        Op::Pointwise(op) => pointwise::cost(g, op),
        Op::PoolClassify(op) => classifier::cost(g, op),
        Op::ExpandDepthwise(op) => ops::expand_depthwise::cost(g, op),
        Op::ConvProject(op) => ops::conv_project::cost(g, op),
    }
}

/// One conv layer's weights as its kernel reads them.
pub(crate) fn conv_layout(c: &ConvWeights) -> Vec<f32> {
    use ops::{conv, depthwise, pointwise};
    match c.kind {
        ConvKind::Gemm => pointwise::layout(c),
        ConvKind::Depthwise { k } => depthwise::layout(c, k),
        ConvKind::Dense { k } => conv::layout(c, k),
    }
}

/// `ACT` in shaders/common/prelude.wgsl.
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
/// (`VEC_TAPS` in shaders/cpu/taps.wgsl): stride 1, input rows of 4k values, left padding k / 2
/// (so each invocation's first output column, a multiple of 4, sits at x0 + k / 2).
fn vec_taps(w_in: usize, geom: &ConvGeom) -> bool {
    geom.stride == 1 && w_in.is_multiple_of(4) && geom.pad_left == geom.k / 2
}
