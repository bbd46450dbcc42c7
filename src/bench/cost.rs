//! What each op is for (its role in the block) and what it costs: floating point operations
//! and bytes moved, so the profiler can report GFLOP/s and GB/s per kernel kind.

use crate::gpu::Precision;
use crate::graph::ops::{ConvOp, PointwiseOp};
use crate::graph::{Graph, Op};
use serde::Serialize;

/// The part of the network a dispatch belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Stem,
    Expand,
    /// An expansion and the depthwise conv after it, fused (`graph::fuse`).
    ExpandDepthwise,
    /// A fused-MBConv block's conv and its projection, fused (`graph::fuse`).
    ConvProject,
    Depthwise,
    Se,
    Project,
    Head,
    Classifier,
}

/// Role of every op: the first conv is the stem, the op producing the head output is the
/// head, k×k dense convs and activated 1×1 convs inside blocks expand, un-activated 1×1
/// convs project.
pub(crate) fn roles(g: &Graph) -> Vec<Role> {
    let head = g.stages.last().map(|s| s.tensor);
    g.ops
        .iter()
        .enumerate()
        .map(|(i, op)| match *op {
            _ if i == 0 => Role::Stem,
            Op::PoolClassify(_) => Role::Classifier,
            Op::Pointwise(PointwiseOp { output, .. }) | Op::Conv(ConvOp { output, .. })
                if Some(output) == head =>
            {
                Role::Head
            }
            Op::Depthwise(_) => Role::Depthwise,
            Op::ExpandDepthwise(_) => Role::ExpandDepthwise,
            Op::ConvProject(_) => Role::ConvProject,
            Op::SeExcite(_) => Role::Se,
            Op::Pointwise(PointwiseOp {
                act: crate::model::Activation::Identity,
                ..
            }) => Role::Project,
            Op::Pointwise(_) | Op::Conv(_) => Role::Expand,
        })
        .collect()
}

/// Stage index of every op (the stage whose output it contributes to).
pub(crate) fn stages(g: &Graph) -> Vec<usize> {
    let mut stage = 0;
    let mut out = Vec::with_capacity(g.ops.len());
    for op in &g.ops {
        out.push(stage.min(g.stages.len().saturating_sub(1)));
        let (_, writes) = crate::graph::plan::uses(op);
        if g.stages
            .get(stage)
            .is_some_and(|s| writes.contains(&s.tensor))
        {
            stage += 1;
        }
    }
    out
}

/// Floating point operations (2 per multiply-add) and bytes read + written, in f32: each
/// kernel's own count (`kernels::*::cost`).
pub use crate::kernels::cost;

/// FLOPs and compulsory DRAM bytes of every op of `g` with tensors and weights stored in
/// `precision`: `cost` counts 4 bytes per value, so its bytes scale by `precision.bytes() / 4`.
pub(crate) fn costs(g: &Graph, precision: Precision) -> Vec<(u64, u64)> {
    (g.ops.iter())
        .map(|op| {
            let (flop, f32_bytes) = cost(g, op);
            (flop, f32_bytes / 4 * precision.bytes())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::costs;
    use crate::gpu::{Precision, Tuning};
    use crate::kernels::candidates::Choice;
    use crate::kernels::{self, Family};
    use crate::model::variants;

    /// The GPU family's plans as sessions build them (fused, stage outputs not kept), in f16:
    /// dispatches and compulsory bytes per image (batch 2 − batch 1) within issue 23's
    /// targets, half of what the unfused plans moved on 2026-12-07: B0 224 at most 51
    /// dispatches and 13.85 MB, V2-S 384 at most 123 and 77.2 MB.
    #[test]
    fn gpu_family_plans_stay_within_their_traffic_targets() {
        let targets = [
            ("tf_efficientnet_b0", 224, 51, 13.85e6),
            ("tf_efficientnetv2_s", 384, 123, 77.2e6),
        ];
        for (model, res, max_dispatches, max_bytes) in targets {
            let arch = variants::resolve(model, None).unwrap();
            let plan = |n| {
                let g = kernels::lower(&arch, n, res, res).unwrap();
                let g = kernels::fuse(g, &Tuning::default(), Choice::Family(Family::Gpu), false);
                let bytes: u64 = costs(&g, Precision::F16).iter().map(|c| c.1).sum();
                (g.ops.len(), bytes as f64)
            };
            let ((dispatches, one), (_, two)) = (plan(1), plan(2));
            let per_image = two - one;
            eprintln!("{model} {res}: {dispatches} dispatches, {per_image:.0} bytes per image");
            assert!(dispatches <= max_dispatches, "{model}: {dispatches}");
            assert!(per_image <= max_bytes, "{model}: {per_image} bytes");
        }
    }
}
