//! GPU family: a conv (a 1×1 expansion, or the stem) and the depthwise conv after it in one
//! dispatch
//! (shaders/gpu/depthwise.wgsl staging through shaders/gpu/dw_expand.wgsl). The depthwise
//! kernel's tiles, grid and SE sums as they are (`gpu::depthwise`); only its staging
//! differs: each staged value of the expanded tensor is computed from the expansion's
//! input (its `cin` channels at that pixel) instead of loaded, so the expanded tensor, an
//! MBConv block's widest, is never written to or read from memory. Bands of a large plane
//! compute their halo rows twice; whole planes (the late, small ones) compute each value
//! once.

use super::depthwise::describe_staged;
use crate::graph::Graph;
use crate::graph::ops::ExpandDepthwiseOp;
use crate::kernels::ops::expand_depthwise::{dispatch, expand_geometry};
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = concat!(
    include_str!("../../../shaders/gpu/depthwise.wgsl"),
    include_str!("../../../shaders/gpu/dw_expand.wgsl"),
);

/// The dispatch: the depthwise conv's tiling, priced with staging at 2 per multiply-add of
/// the expansion plus the store (`Tiling::cost`), its constants and the expansion's
/// activation, kernel size and stride. `None` where the depthwise kernel takes no tiling of the shape.
pub(crate) fn describe(g: &Graph, op: &ExpandDepthwiseOp, units: usize) -> Option<DispatchDesc> {
    let cin = g.shapes[op.expand.input()].c;
    let (k, stride) = expand_geometry(&op.expand);
    let dw = describe_staged(g, &op.depthwise, units, 4 + 2 * cin * k * k)?;
    let mut d = dispatch(g, op);
    d.constants = dw.constants;
    d.constants.extend([
        ("EXPAND_ACT", act_code(op.expand.act())),
        ("EXPAND_K", u(k)),
        ("EXPAND_STRIDE", u(stride)),
    ]);
    d.workgroups = dw.workgroups;
    Some(d)
}
