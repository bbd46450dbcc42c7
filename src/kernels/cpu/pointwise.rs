//! 1×1 convolution as a register-blocked GEMM with the SE gate, folded BN, activation and
//! residual fused (shaders/cpu/pointwise.wgsl).

use crate::graph::Graph;
use crate::graph::ops::PointwiseOp;
use crate::kernels::ops::pointwise::{MAX_CO, dispatch};
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/pointwise.wgsl");

/// Pixels one invocation computes (`PIXELS`; one vec4 per input channel).
pub(crate) const PIXELS: usize = 4;
/// Invocations per workgroup (`WG`), and the size for planes that need at most
/// `SMALL_WG` invocations (7×7): elsewhere the kernel's loop ends at once for lanes with
/// nothing to do, so one size keeps the pipeline count down.
pub(crate) const WG: usize = 64;
pub(crate) const SMALL_WG: usize = 16;
/// Output channels per invocation the kernel may use (`CO`; `effnet tune` picks one per
/// adapter, `kernels::Tuning::pointwise_co`).
pub(crate) const CO_CANDIDATES: [u32; 4] = [4, 8, 16, 32];

// The weight rows (`ops::pointwise::gemm_rows`) are padded for the largest block.
const _: () = assert!(CO_CANDIDATES[CO_CANDIDATES.len() - 1] as usize == MAX_CO);

/// The dispatch of a 1×1 conv with `co` output channels per invocation. Grid:
/// x = pixels / (PIXELS × WG), y = channels / co, z = batch.
pub(crate) fn describe(g: &Graph, op: &PointwiseOp, co: u32) -> DispatchDesc {
    let PointwiseOp {
        act,
        gate,
        residual,
        ..
    } = *op;
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let mut d = dispatch(g, op);
    let lanes = (i.h * i.w).div_ceil(PIXELS);
    let wg = if lanes <= SMALL_WG { SMALL_WG } else { WG };
    d.constants = vec![
        ("ACT", act_code(act)),
        ("CO", co),
        ("ALIGNED", (i.h * i.w).is_multiple_of(4) as u32),
        ("WG", u(wg)),
        ("HAS_GATE", gate.is_some() as u32),
        ("HAS_RESIDUAL", residual.is_some() as u32),
        ("PIXELS", u(PIXELS)),
    ];
    let channel_groups = o.c.div_ceil(co as usize);
    d.workgroups = [u(lanes.div_ceil(wg)), u(channel_groups), u(o.n)];
    d
}
