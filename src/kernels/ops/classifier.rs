//! The classifier op as every family computes it (global average pooling + the linear classifier): its
//! parameter block, the weight layout both families read, its cost and the real-shape
//! cases tests, benches and the tuner share. Each family's `describe` and shader are in
//! `kernels::cpu::classifier` and `kernels::gpu::classifier`.

use crate::graph::ops::PoolClassifyOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, square};
use crate::model::rule::rule_tensor;
use crate::model::weights::ModelWeights;

params! {
    /// `P` of shaders/cpu/classifier.wgsl.
    ClassifierParams {
        /// Channels pooled.
        features: u32,
        /// Classes, or 0 for a headless backbone (the output is the pooled features).
        classes: u32,
        /// Pixels per channel plane.
        hw: u32,
        inv_hw: f32,
        /// Slots per weight row and per pooled row of the scratch (`row_len(features)`).
        row_len: u32,
        /// Where the biases start, after the weight rows.
        bias_off: u32,
        /// Workgroups per image.
        groups: u32,
        /// The rest are the GPU family's (src/kernels/gpu/classifier.rs); 0 here.
        /// Images.
        images: u32,
        /// Images per workgroup (1 to 4).
        ib: u32,
        /// Classes per workgroup.
        cb: u32,
        /// Features per slice of the pooled features staged in workgroup memory.
        ks: u32,
        /// Lanes that walk each row together: a channel plane when pooling, a weight row.
        lp: u32,
        lw: u32,
    }
}
/// Features per weight row on the GPU: rounded up to 8, whole `shared_sums8` blocks.
pub(crate) fn row_len(features: usize) -> usize {
    features.next_multiple_of(8)
}
/// `[classes, features]` → `[classes, row_len(features)]`, zero-padded, the bias after it.
pub(crate) fn layout(weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let classes = bias.len();
    let features = weight.len() / classes.max(1);
    let len = row_len(features);
    let mut t = vec![0.0; classes * len];
    // (No classifier at all, as in the kernel benchmarks' models: nothing to copy.)
    for (dst, src) in t.chunks_mut(len.max(1)).zip(weight.chunks(features.max(1))) {
        dst[..features].copy_from_slice(src);
    }
    t.extend_from_slice(bias);
    t
}
/// FLOPs and bytes of a pool + classifier.
pub(crate) fn cost(g: &Graph, op: &PoolClassifyOp) -> (u64, u64) {
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let c = i.c as u64;
    let classes = if op.classify { o.c as u64 } else { 0 };
    let len = i.len() as u64;
    (
        len + 2 * c * classes * i.n as u64,
        4 * (len + c * classes + o.len() as u64),
    )
}
/// Pooling `c` channels of `h`×`h` into `classes` logits.
pub(crate) fn case(name: &'static str, c: usize, h: usize, classes: usize) -> Case {
    let op = Op::PoolClassify(PoolClassifyOp {
        input: 0,
        output: 1,
        classify: true,
    });
    let weights = ModelWeights {
        convs: vec![],
        ses: vec![],
        classifier_w: rule_tensor(name, &[classes, c]),
        classifier_b: rule_tensor("bias", &[classes]),
    };
    Case::new(name, vec![square(c, h), square(classes, 1)], op, weights)
}
/// The ImageNet heads of B0 (7×7 at 224) and V2-S (12×12 at 384).
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_classifier_1280to1000_7", 1280, 7, 1000),
        case("v2s_classifier_1280to1000_12", 1280, 12, 1000),
    ]
}
