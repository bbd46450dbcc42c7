//! GPU family, channels last (`kernels::layout`, NHWC with channels padded to 4): the
//! kernels NHWC sessions run, each a candidate beside its NCHW namesake in `kernels::gpu`
//! (same op, parameter block and weight layout; variant [`VARIANT`]). A lane owns a vec4 of
//! channels at each pixel it computes, so every load and store of an activation is a whole
//! vec4 (two whole words in packed f16) and lanes next to each other touch consecutive
//! channels. SE reads and writes per-channel vectors, alike in both layouts, so its NCHW
//! kernel serves; the fused expansion + depthwise has no NHWC kernel yet, so NHWC sessions
//! run it split (`kernels::fuse`).
//!
//! Arithmetic is f32 whatever `Tuning::gpu_f16_math` asks (values are stored in the
//! session's precision); tiles are fixed, not yet sized for `Tuning::gpu_units`.

use crate::graph::{Graph, Op};
use crate::kernels::DispatchDesc;

pub(crate) mod classifier;
pub(crate) mod conv;
pub(crate) mod depthwise;
pub(crate) mod pointwise;

/// The NHWC dispatch of `op`, or `None` where there is no NHWC kernel for it.
pub(crate) fn describe(g: &Graph, op: &Op) -> Option<DispatchDesc> {
    match op {
        Op::Pointwise(op) => pointwise::describe(g, op),
        Op::Depthwise(op) => depthwise::describe(g, op),
        Op::Conv(op) => conv::describe(g, op),
        Op::PoolClassify(op) => classifier::describe(g, op),
        Op::SeExcite(_) | Op::ExpandDepthwise(_) | Op::ConvProject(_) => None,
    }
}

/// The variant name of every NHWC kernel (`Kernel::variant`).
pub(crate) const VARIANT: &str = "nhwc";

/// Lanes per workgroup of the NHWC kernels.
const WG: usize = 64;
/// The most lanes that share a pixel, one per vec4 of its channels (a power of two): 16
/// lanes cover 64 channels with 256 consecutive bytes in f32.
const MAX_CHANNEL_LANES: usize = 16;

/// Lanes per pixel for `c` channels: one per vec4 of them up to `MAX_CHANNEL_LANES`, a
/// power of two dividing `WG` (the rest of the workgroup's lanes take other pixels).
fn channel_lanes(c: usize) -> usize {
    crate::kernels::layout::padded_channels(c)
        .div_ceil(4)
        .next_power_of_two()
        .min(MAX_CHANNEL_LANES)
}

/// A grid of `tiles` workgroups along y (and z past WebGPU's 65535 per dimension).
fn split_grid(tiles: usize) -> (u32, u32) {
    let z = tiles.div_ceil(65535).max(1);
    (tiles.div_ceil(z) as u32, z as u32)
}
