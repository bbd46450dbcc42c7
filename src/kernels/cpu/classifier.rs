//! Global average pool + classifier, or the pooled features alone for a headless backbone
//! (shaders/cpu/classifier.wgsl).

use crate::graph::ops::PoolClassifyOp;
use crate::graph::{Graph, Shape};
use crate::kernels::ops::classifier::{ClassifierParams, row_len};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/classifier.wgsl");

/// Workgroups per image; each pools the whole image again, so more only pays where more
/// cores would otherwise idle.
pub(crate) const GROUPS: usize = 2;
/// Invocations per workgroup (`WG`).
pub(crate) const WG: usize = 64;

/// Values of scratch the kernel needs for an input of `input`: one pooled row per
/// workgroup, so that workgroups never share memory.
pub(crate) fn scratch_len(input: Shape) -> usize {
    input.n * GROUPS * row_len(input.c)
}

/// The dispatch of a pool + classifier. Grid: x = class groups, z = images.
pub(crate) fn describe(g: &Graph, op: &PoolClassifyOp) -> DispatchDesc {
    let PoolClassifyOp {
        input,
        output,
        classify,
    } = *op;
    let (i, o) = (g.shapes[input], g.shapes[output]);
    // No classes: the shader writes the pooled features instead (one workgroup per image).
    let groups = if classify { GROUPS } else { 1 };
    let row = row_len(i.c);
    let p = ClassifierParams {
        features: u(i.c),
        classes: if classify { u(o.c) } else { 0 },
        hw: u(i.h * i.w),
        inv_hw: 1.0 / (i.h * i.w) as f32,
        row_len: u(row),
        bias_off: u(o.c * row),
        groups: u(groups),
        ..ClassifierParams::default()
    };
    let mut d = DispatchDesc::new(Params::Classifier(p), WeightRef::Classifier, input, output);
    d.constants = vec![("WG", u(WG))];
    d.aux = Aux::Scratch(scratch_len(i));
    d.workgroups = [u(groups), 1, u(i.n)];
    d
}
