//! GPU family: a fused-MBConv block's k×k conv and the 1×1 projection after it in one
//! dispatch (shaders/gpu/pointwise.wgsl staging through shaders/gpu/pw_conv.wgsl). The
//! projection's GEMM as it is (`gpu::pointwise`); only its staging differs: each staged
//! input value, a value of the expanded tensor, is computed from the conv's input (its
//! window over every input channel) instead of loaded, so the expanded tensor, the block's
//! widest, is never written to or read from memory.
//!
//! One workgroup holds all the output channels (at most 64: V2's fused-MBConv stages
//! project to 24–96), so each expanded value is computed once, as unfused; wider
//! projections would recompute the conv per channel tile and stay apart.

use super::pointwise::{one_channel_tile, tiled};
use crate::graph::Graph;
use crate::graph::ops::ConvProjectOp;
use crate::kernels::ops::conv_project::dispatch;
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = concat!(
    include_str!("../../../shaders/gpu/pointwise.wgsl"),
    include_str!("../../../shaders/gpu/pw_conv.wgsl"),
);

/// Output channels one workgroup holds (`one_channel_tile`'s TM).
const MAX_OUT: usize = 64;

/// The dispatch: the projection's tiling with every output channel in one tile, its
/// constants and the conv's activation, kernel size and stride; `None` past `MAX_OUT`
/// output channels.
pub(crate) fn describe(g: &Graph, op: &ConvProjectOp, units: usize) -> Option<DispatchDesc> {
    let o = g.shapes[op.project.output];
    if o.c > MAX_OUT {
        return None;
    }
    let aligned = (o.h * o.w).is_multiple_of(4);
    let t = one_channel_tile(o.n * o.h * o.w, aligned, units);
    let mut d = tiled(dispatch(g, op), g, &op.project, t);
    let geom = op.conv.geom;
    d.constants.extend([
        ("EXPAND_ACT", act_code(geom.act)),
        ("EXPAND_K", u(geom.k)),
        ("EXPAND_STRIDE", u(geom.stride)),
    ]);
    Some(d)
}
