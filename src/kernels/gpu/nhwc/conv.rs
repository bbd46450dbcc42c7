//! GPU family, NHWC: dense k×k conv + folded BN + activation (+ residual), the stem
//! (reading the model's input NCHW, as the caller gives it: `layout::input_stays_nchw`) and
//! V2's fused-MBConv convs (shaders/gpu/nhwc/conv.wgsl). Parameters and weights are `kernels::ops::conv`'s.

use super::{WG, channel_lanes, split_grid};
use crate::graph::Graph;
use crate::graph::ops::ConvOp;
use crate::kernels::layout::{input_stays_nchw, padded_channels};
use crate::kernels::ops::conv::CHANNELS;
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../../shaders/gpu/nhwc/conv.wgsl");

/// The dispatch of a dense conv in an NHWC session: grid x = groups of `CO_LANES` output
/// channel vec4s, y (and z) = tiles of `WG / CO_LANES` output pixels, one per lane.
pub(crate) fn describe(g: &Graph, op: &ConvOp) -> Option<DispatchDesc> {
    let mut d = crate::kernels::ops::conv::dispatch(g, op);
    let o = g.shapes[op.output];
    let co_vec4s = padded_channels(o.c) / 4;
    let co_lanes = channel_lanes(o.c);
    let (y, z) = split_grid((o.n * o.h * o.w).div_ceil(WG / co_lanes));
    d.constants = vec![
        ("K", u(op.geom.k)),
        ("STRIDE", u(op.geom.stride)),
        ("ACT", act_code(op.geom.act)),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
        (
            "NCHW_IN",
            (op.input == g.input && input_stays_nchw(g)) as u32,
        ),
        ("CHANNELS", u(CHANNELS)),
        ("CO_LANES", u(co_lanes)),
        ("WG", u(WG)),
    ];
    d.workgroups = [u(co_vec4s.div_ceil(co_lanes)), y, z];
    Some(d)
}
