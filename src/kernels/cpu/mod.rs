//! The CPU family: kernels shaped for CPU Vulkan drivers such as lavapipe (small workgroups,
//! no workgroup memory, every lane loading its own values, because there idle lanes still
//! cost and shared memory is plain memory), one module per op beside its shader in
//! `shaders/cpu/`. What each op means for every family (parameters, weight layout, cost,
//! cases) is in `kernels::ops`. It runs every op of an unfused graph, so the GPU family
//! falls back to it op by op; fused ops (`kernels::fuse`) exist only in GPU-family graphs.

use super::DispatchDesc;
use crate::graph::{Graph, Op};

pub(crate) mod classifier;
pub(crate) mod conv;
pub(crate) mod depthwise;
pub(crate) mod pointwise;
pub(crate) mod pointwise_naive;
pub(crate) mod se;

/// Describes `op` of `g` with this family's kernel; `pointwise_co` is the GEMM's output
/// channel block (`Tuning::pointwise_co`). `None` only for a fused op, which only the GPU
/// family runs.
pub(crate) fn describe(g: &Graph, op: &Op, pointwise_co: u32) -> Option<DispatchDesc> {
    Some(match op {
        Op::Conv(op) => conv::describe(g, op),
        Op::Depthwise(op) => depthwise::describe(g, op),
        Op::SeExcite(op) => se::describe(g, op),
        Op::Pointwise(op) => pointwise::describe(g, op, pointwise_co),
        Op::PoolClassify(op) => classifier::describe(g, op),
        Op::ExpandDepthwise(_) | Op::ConvProject(_) => return None,
    })
}
