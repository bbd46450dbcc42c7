//! Squeeze-and-excitation in one dispatch per image, from the depthwise kernel's partial sums
//! to the gate the projection applies (shaders/cpu/se.wgsl).

use crate::graph::Graph;
use crate::graph::ops::SeExciteOp;
use crate::kernels::ops::se::{SeParams, offsets};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/se.wgsl");

/// Invocations of the one workgroup per image (`WG`).
pub(crate) const WG: usize = 256;

/// The dispatch of an SE excitation: one workgroup per image.
pub(crate) fn describe(g: &Graph, op: &SeExciteOp) -> DispatchDesc {
    let s = g.shapes[op.sums];
    let (b1, w2, b2) = offsets(s.c, op.reduced);
    let p = SeParams {
        channels: u(s.c),
        reduced: u(op.reduced),
        partials: u(s.w),
        inv_hw: 1.0 / op.hw as f32,
        b1_off: u(b1),
        w2_off: u(w2),
        b2_off: u(b2),
        ..SeParams::default()
    };
    let mut d = DispatchDesc::new(Params::Se(p), WeightRef::Se(op.se), op.sums, op.gate);
    // The sums go to `aux` (the hidden layer is written back there), not `src`.
    d.src = None;
    d.aux = Aux::Tensor(op.sums);
    d.constants = vec![("ACT", act_code(op.act)), ("WG", u(WG))];
    d.workgroups = [u(s.n), 1, 1];
    d
}
