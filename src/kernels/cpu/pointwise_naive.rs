//! A naive 1×1 convolution (shaders/cpu/pointwise_naive.wgsl): one lane per output value,
//! the op's parameters and weight layout as they are (`ops::pointwise`). A readable baseline
//! beside the tuned kernel, and the demonstration that a kernel variant is its module, its
//! shader and one entry of `kernels::candidates`: it is checked against the CPU reference
//! and validated like every candidate, timed by `effnet tune` against the tuned kernel, and
//! run only where the tuner picked it (the tuned kernel before it in the list takes every
//! shape; on lavapipe the naive one is 10× slower).

use crate::graph::{Graph, Op};
use crate::kernels::ops::pointwise::dispatch;
use crate::kernels::{DispatchDesc, Tuning, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/pointwise_naive.wgsl");

/// Lanes per workgroup (`WG`), one output value each.
pub(crate) const WG: usize = 64;

/// The dispatch of a 1×1 conv. Grid: x = pixels / WG, y = output channels, z = batch.
pub(crate) fn describe(g: &Graph, op: &Op, _: &Tuning) -> Option<DispatchDesc> {
    let Op::Pointwise(op) = op else { return None };
    let o = g.shapes[op.output];
    let mut d = dispatch(g, op);
    d.constants = vec![
        ("ACT", act_code(op.act)),
        ("WG", u(WG)),
        ("HAS_GATE", op.gate.is_some() as u32),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
    ];
    d.workgroups = [u((o.h * o.w).div_ceil(WG)), u(o.c), u(o.n)];
    Some(d)
}
