//! GPU family, NHWC: global average pool + classifier, or the pooled features alone for a
//! headless backbone (shaders/gpu/nhwc/classifier.wgsl). Parameters and weights are
//! `kernels::ops::classifier`'s; the output, `[n, classes]`, is stored as an NHWC tensor of
//! 1×1 planes (classes padded to 4), which the host reads back as NCHW.

use super::WG;
use crate::graph::Graph;
use crate::graph::ops::PoolClassifyOp;
use crate::kernels::layout::padded_channels;
use crate::kernels::ops::classifier::{ClassifierParams, row_len};
use crate::kernels::{DispatchDesc, Params, WeightRef, u};

pub(crate) const WGSL: &str = include_str!("../../../../shaders/gpu/nhwc/classifier.wgsl");

/// vec4s of pooled features a workgroup holds (`pooled` in the shader): 16 KiB, WebGPU's
/// default workgroup memory; 4096 features, beyond every EfficientNet's head (B7: 2560).
const POOLED_VEC4S: usize = 1024;

/// The dispatch of a pool + classifier (or pool alone) in an NHWC session, `None` past
/// `POOLED_VEC4S` features: grid x = blocks of `WG` class vec4s (1 headless), y = images.
/// Each workgroup pools its image.
pub(crate) fn describe(g: &Graph, op: &PoolClassifyOp) -> Option<DispatchDesc> {
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let (f4, hw) = (padded_channels(i.c), i.h * i.w);
    if f4 / 4 > POOLED_VEC4S || i.n > 65535 {
        return None;
    }
    let classes = if op.classify { o.c } else { 0 };
    let p = ClassifierParams {
        features: u(i.c),
        classes: u(classes),
        hw: u(hw),
        inv_hw: 1.0 / hw as f32,
        row_len: u(row_len(i.c)),
        bias_off: u(classes * row_len(i.c)),
        images: u(i.n),
        ..ClassifierParams::default()
    };
    let params = Params::Classifier(p);
    let mut d = DispatchDesc::new(params, WeightRef::Classifier, op.input, op.output);
    d.constants = vec![("WG", u(WG)), ("POOLED", u(POOLED_VEC4S))];
    let blocks = (padded_channels(classes) / 4).div_ceil(WG).max(1);
    d.workgroups = [u(blocks), u(i.n), 1];
    Some(d)
}
