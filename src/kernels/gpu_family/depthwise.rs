//! GPU family: depthwise (shaders/gpu_family/depthwise.wgsl). Not written yet: the CPU family's
//! kernel runs this op.

use crate::graph::Graph;
use crate::graph::ops::DepthwiseOp;
use crate::kernels::DispatchDesc;

pub const WGSL: &str = include_str!("../../../shaders/gpu_family/depthwise.wgsl");

/// The dispatch, or `None` where this family has no kernel for the op.
pub fn describe(_g: &Graph, _op: &DepthwiseOp) -> Option<DispatchDesc> {
    None
}
