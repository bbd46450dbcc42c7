//! Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
//! expansion and ConvBnAct (shaders/cpu/conv.wgsl).

use crate::graph::Graph;
use crate::graph::ops::ConvOp;
use crate::kernels::ops::conv::{CHANNELS, dispatch};
use crate::kernels::{DispatchDesc, act_code, u, vec_taps};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/conv.wgsl");

/// Consecutive outputs of a row one invocation computes (`OUT_X`; one vec4).
pub(crate) const OUT_X: usize = 4;
/// Invocations per workgroup (`WG`).
pub(crate) const WG: usize = 64;

/// Kernel rows as a loop (`ROW_LOOP` in shaders/cpu/conv.wgsl) in a browser: Chromium's shader
/// pipeline (Tint, then SwiftShader) spent minutes and over 10 GB on the stem's unrolled rows
/// and then lost its GPU process, where the loop compiles in a second. Native drivers keep
/// the unrolled rows, which lavapipe runs faster (see the shader).
const ROW_LOOP: u32 = cfg!(target_arch = "wasm32") as u32;

/// The dispatch of a conv. Grid: x = row quads / WG, y = output channels / CHANNELS,
/// z = batch.
pub(crate) fn describe(g: &Graph, op: &ConvOp) -> DispatchDesc {
    let ConvOp {
        output,
        geom,
        residual,
        ..
    } = *op;
    let (i, o) = (g.shapes[op.input], g.shapes[output]);
    let mut d = dispatch(g, op);
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", act_code(geom.act)),
        ("HAS_RESIDUAL", residual.is_some() as u32),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("VEC_TAPS", vec_taps(i.w, &geom) as u32),
        ("CO", u(CHANNELS)),
        ("OUT_X", u(OUT_X)),
        ("WG", u(WG)),
        ("ROW_LOOP", ROW_LOOP),
    ];
    let quads = o.h * o.w.div_ceil(OUT_X);
    d.workgroups = [u(quads.div_ceil(WG)), u(o.c.div_ceil(CHANNELS)), u(o.n)];
    d
}
