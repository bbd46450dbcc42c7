//! GPU family, NHWC: depthwise k×k conv + folded BN + activation, and the SE partial sums of
//! its output as a column reduction (shaders/gpu/nhwc/depthwise.wgsl). Parameters and
//! weights are `kernels::ops::depthwise`'s; the SE sums keep their `[n, c, 1, partials]`
//! layout, so the SE kernel after it is the NCHW sessions' own.

use super::{WG, channel_lanes};
use crate::graph::Graph;
use crate::graph::ops::DepthwiseOp;
use crate::kernels::layout::padded_channels;
use crate::kernels::{DispatchDesc, Params, act_code, u};

/// The kernel and the entry point and sums around it come from gpu/reduce_*.wgsl, as for
/// every GPU-family depthwise kernel (`source.rs`).
pub(crate) const WGSL: &str = include_str!("../../../../shaders/gpu/nhwc/depthwise.wgsl");

/// Outputs per lane a band aims at: enough to amortise the lane's weight loads (k × k per
/// channel), few enough that a large plane makes many workgroups.
const PIXELS_PER_LANE: usize = 4;

/// The dispatch of a depthwise conv in an NHWC session: grid x = bands of each image's
/// output pixels (`tiles`, at most half the SE partial sums: each band owns the sum slot
/// pairs w ≡ band), y = groups of `C_LANES` channel vec4s, z = images.
pub(crate) fn describe(g: &Graph, op: &DepthwiseOp) -> Option<DispatchDesc> {
    let mut d = crate::kernels::ops::depthwise::dispatch(g, op);
    let o = g.shapes[op.output];
    let c_lanes = channel_lanes(o.c);
    let Params::Depthwise(p) = &mut d.params else {
        unreachable!("a depthwise op's dispatch has depthwise parameters")
    };
    let per_band = WG / c_lanes * PIXELS_PER_LANE;
    let bands = (o.h * o.w)
        .div_ceil(per_band)
        .clamp(1, p.partials as usize / 2);
    p.tiles = u(bands);
    d.constants = vec![
        ("K", u(op.geom.k)),
        ("STRIDE", u(op.geom.stride)),
        ("ACT", act_code(op.geom.act)),
        ("HAS_SUMS", op.se_sums.is_some() as u32),
        ("C_LANES", u(c_lanes)),
        ("WG", u(WG)),
    ];
    let channel_groups = (padded_channels(o.c) / 4).div_ceil(c_lanes);
    d.workgroups = [u(bands), u(channel_groups), u(o.n)];
    Some(d)
}
