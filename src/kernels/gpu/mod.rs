//! The GPU family: kernels shaped for GPUs (64–256-lane workgroups, tiles staged in
//! `var<workgroup>`, workgroup reductions, stores of whole words), one module per kernel
//! beside its CPU-family namesake in `kernels::`. They take the same parameter blocks,
//! weight layouts and tensors, so an op this family has no kernel for (a module's
//! `describe` returns `None`) runs the CPU family's in the same session.
//! `kernels::Family` says which family a session uses.

use super::DispatchDesc;
use crate::graph::{Graph, Op};

pub(crate) mod classifier;
pub(crate) mod conv;
pub(crate) mod conv_project;
pub(crate) mod depthwise;
pub(crate) mod expand_depthwise;
pub(crate) mod nhwc;
pub(crate) mod pointwise;
pub(crate) mod pointwise_coop;
pub(crate) mod reduce;
pub(crate) mod se;

pub(crate) use reduce::subgroup_reductions;

/// Largest batch at which `Family::Auto` runs the GPU family's GEMMs, SE and classifier.
/// Measured on an NVIDIA H200 (Vulkan, driver 580.159.04), B0 224 f16, GPU ms per pass by
/// kind, GPU family vs CPU family: at batch 1 expand 0.23 vs 0.28, project 0.56 vs 1.29, SE
/// 0.39 vs 0.55, classifier 0.07 vs 0.44, depthwise 0.17 vs 0.13; whole passes 1.54 vs
/// 2.93 ms at batch 1, 2.72 vs 3.88 at batch 8, 10.0 vs 7.2 at batch 64 and 38.8 vs 21.8
/// at batch 256, where every GPU-family kind was slower (depthwise 32.1 vs 4.3 ms).
pub(crate) const AUTO_MAX_BATCH: usize = 8;

/// Whether `Family::Auto` runs `op` with this family's kernel: where it measured faster
/// (`AUTO_MAX_BATCH`). Depthwise and dense convs never did.
pub(crate) fn preferred(g: &Graph, op: &Op) -> bool {
    let batch = g.shapes[g.input].n;
    let kind_wins = matches!(op, Op::Pointwise(_) | Op::SeExcite(_) | Op::PoolClassify(_));
    kind_wins && batch <= AUTO_MAX_BATCH
}

/// Compute units (SMs, CUs, cores) the family sizes its grids for on an adapter nobody has
/// tuned (`kernels::Tuning::gpu_units`): an H200's 132 SMs, the one GPU it was measured on.
/// Every tile choice below trades larger tiles (fewer loads per multiply-add) against
/// enough workgroups to keep this many units busy; `effnet tune` measures the best value
/// per adapter (on lavapipe, about its thread count).
pub(crate) const DEFAULT_UNITS: usize = 132;

/// The GPU-family dispatch of `op` with grids sized for `units` compute units, or `None`
/// where the family has no kernel for it.
pub(crate) fn describe(g: &Graph, op: &Op, units: usize) -> Option<DispatchDesc> {
    let units = units.max(1);
    match op {
        Op::Conv(op) => conv::describe(g, op, units),
        Op::Depthwise(op) => depthwise::describe(g, op, units),
        Op::SeExcite(op) => se::describe(g, op, units),
        Op::Pointwise(op) => pointwise::describe(g, op, units),
        Op::PoolClassify(op) => classifier::describe(g, op, units),
        Op::ExpandDepthwise(op) => expand_depthwise::describe(g, op, units),
        Op::ConvProject(op) => conv_project::describe(g, op, units),
    }
}
