//! GPU family, NHWC: 1×1 conv as a GEMM whose K (input channels) is contiguous in memory:
//! `out[q, co] = act(bias + Σ_ci gate[n, ci] · x[q, ci] · W[ci, co]) + res[q, co]` over the
//! pixels `q` of all images (shaders/gpu/nhwc/pointwise.wgsl). Parameters and weights are
//! `kernels::ops::pointwise`'s: W is stored `[ci][co]`, so the 4 output channels a lane owns
//! are one vec4 of a weight row.

use super::{WG, channel_lanes, split_grid};
use crate::graph::Graph;
use crate::graph::ops::PointwiseOp;
use crate::kernels::layout::padded_channels;
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../../shaders/gpu/nhwc/pointwise.wgsl");

/// Pixels one lane computes (`PX` in the shader): 4 vec4 accumulators, so each weight
/// vec4 loaded serves 4 pixels and each input vec4 a lane's 4 output channels.
const PIXELS_PER_LANE: usize = 4;

/// The dispatch of a 1×1 conv in an NHWC session: grid x = groups of `CO_LANES` output
/// channel vec4s, y (and z) = tiles of `WG / CO_LANES` × `PIXELS_PER_LANE` pixels.
pub(crate) fn describe(g: &Graph, op: &PointwiseOp) -> Option<DispatchDesc> {
    let mut d = crate::kernels::ops::pointwise::dispatch(g, op);
    let o = g.shapes[op.output];
    let co_vec4s = padded_channels(o.c) / 4;
    let co_lanes = channel_lanes(o.c);
    let pixel_tiles = (o.n * o.h * o.w).div_ceil(WG / co_lanes * PIXELS_PER_LANE);
    let (y, z) = split_grid(pixel_tiles);
    d.constants = vec![
        ("ACT", act_code(op.act)),
        ("HAS_GATE", op.gate.is_some() as u32),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
        ("CO_LANES", u(co_lanes)),
        ("WG", u(WG)),
    ];
    d.workgroups = [u(co_vec4s.div_ceil(co_lanes)), y, z];
    Some(d)
}
