//! The GPU family: kernels shaped for GPUs (64–256-lane workgroups, tiles staged in
//! `var<workgroup>`, workgroup reductions, stores of whole words), one module per kernel
//! beside its CPU-family namesake in `kernels::`. They take the same parameter blocks,
//! weight layouts and tensors, so an op this family has no kernel for (a module's
//! `describe` returns `None`) runs the CPU family's in the same session.
//! `kernels::Family` says which family a session uses.

use super::{DispatchDesc, Family};
use crate::graph::{Graph, Op};

pub mod classifier;
pub mod conv;
pub mod depthwise;
pub mod pointwise;
pub mod se;

/// The GPU-family dispatch of `op`, or `None` where the family has no kernel for it.
pub fn describe(g: &Graph, op: &Op) -> Option<DispatchDesc> {
    let d = match op {
        Op::Conv(op) => conv::describe(g, op),
        Op::Depthwise(op) => depthwise::describe(g, op),
        Op::SeExcite(op) => se::describe(g, op),
        Op::Pointwise(op) => pointwise::describe(g, op),
        Op::PoolClassify(op) => classifier::describe(g, op),
    }?;
    Some(DispatchDesc {
        family: Family::Gpu,
        ..d
    })
}
