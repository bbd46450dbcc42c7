//! The se op as every family computes it (squeeze-and-excitation: from the partial sums to the gate): its
//! parameter block, the weight layout both families read, its cost and the real-shape
//! cases tests, benches and the tuner share. Each family's `describe` and shader are in
//! `kernels::cpu::se` and `kernels::gpu::se`.

use crate::graph::ops::SeExciteOp;
use crate::graph::{Graph, Op, Shape};
use crate::kernels::case::Case;
use crate::model::Activation;
use crate::model::rule::rule_tensor;
use crate::model::weights::{ModelWeights, SeWeights};

params! {
    /// `P` of shaders/cpu/se.wgsl.
    SeParams {
        channels: u32,
        /// Width of the hidden layer.
        reduced: u32,
        /// Partial sums per channel in the sums tensor.
        partials: u32,
        /// 1 / (pixels of the depthwise output), turning sums into means.
        inv_hw: f32,
        /// Where b1, w2 and b2 start (`offsets`).
        b1_off: u32,
        w2_off: u32,
        b2_off: u32,
        /// The rest are the GPU family's (src/kernels/gpu/se.rs); 0 here. Images.
        images: u32,
        /// Images per workgroup (1 to 4).
        ib: u32,
        /// Gate channels per workgroup.
        cb: u32,
        /// Channels per slice of the means staged in workgroup memory.
        ks: u32,
        /// Lanes that walk each row together: partial sums, W1 rows, W2 rows.
        lm: u32,
        l1: u32,
        l2: u32,
    }
}
/// Where the parts of an SE layer's weights start for `c` channels reduced to `r`:
/// `[w1 (r × c8), b1, w2 (c × r8), b2]` with c8, r8 rounded up to 8 and w2 at a multiple
/// of 8, so each row is whole vec4s. Returns (b1, w2, b2) offsets.
pub(crate) fn offsets(c: usize, r: usize) -> (usize, usize, usize) {
    let (c8, r8) = (c.next_multiple_of(8), r.next_multiple_of(8));
    let b1 = r * c8;
    let w2 = (b1 + r).next_multiple_of(8);
    (b1, w2, w2 + c * r8)
}
/// An SE layer's weights in the `offsets` layout, zero-padded.
pub(crate) fn layout(s: &SeWeights) -> Vec<f32> {
    let (c, r) = (s.expand_b.len(), s.reduce_b.len());
    let (b1, w2, b2) = offsets(c, r);
    let (c8, r8) = (c.next_multiple_of(8), r.next_multiple_of(8));
    let mut t = vec![0.0; b2 + c];
    for (row, src) in s.reduce_w.chunks(c.max(1)).enumerate().take(r) {
        t[row * c8..row * c8 + src.len()].copy_from_slice(src);
    }
    t[b1..b1 + r].copy_from_slice(&s.reduce_b);
    for (row, src) in s.expand_w.chunks(r.max(1)).enumerate().take(c) {
        t[w2 + row * r8..w2 + row * r8 + src.len()].copy_from_slice(src);
    }
    t[b2..b2 + c].copy_from_slice(&s.expand_b);
    t
}
/// Whether the kernel has room for the hidden layer: it keeps it in the partial sums of the
/// image it has consumed, `channels × partials` values.
pub(crate) fn fits(channels: usize, reduced: usize, partials: usize) -> bool {
    reduced <= channels * partials
}
/// FLOPs and bytes of an SE excitation: two c×r matrix-vector products per image; the
/// weights dominate the traffic. (Counts one sum per channel read, not every partial.)
pub(crate) fn cost(g: &Graph, op: &SeExciteOp) -> (u64, u64) {
    let s = g.shapes[op.sums];
    let (c, r, n) = (s.c as u64, op.reduced as u64, s.n as u64);
    let gate = g.shapes[op.gate].len() as u64;
    (4 * c * r * n, 4 * (2 * c * r + n * c + gate))
}
/// SE of `c` channels reduced to `r`, after a depthwise `k`×`k` stride 1 layer whose output
/// is `h`×`h` (which decides how many partial sums per channel it leaves).
pub(crate) fn case(name: &'static str, c: usize, r: usize, h: usize, k: usize) -> Case {
    let geom = crate::kernels::case::geom(k, 1);
    let partials = crate::kernels::se_partials(h, h, &geom);
    let sums = Shape {
        n: 1,
        c,
        h: 1,
        w: partials,
    };
    let op = Op::SeExcite(SeExciteOp {
        sums: 0,
        gate: 1,
        se: 0,
        reduced: r,
        hw: h * h,
        act: Activation::Silu,
    });
    let gate = Shape { w: 1, ..sums };
    Case::new(name, vec![sums, gate], op, case_weights(c, r))
}
/// The rule's weights of one SE block of `c` channels reduced to `r`, and nothing else.
pub(crate) fn case_weights(c: usize, r: usize) -> ModelWeights {
    let w = SeWeights {
        reduce_w: rule_tensor("reduce", &[r, c]),
        reduce_b: rule_tensor("reduce_bias", &[r]),
        expand_w: rule_tensor("expand", &[c, r]),
        expand_b: rule_tensor("expand_bias", &[c]),
    };
    ModelWeights {
        convs: vec![],
        ses: vec![w],
        classifier_w: vec![],
        classifier_b: vec![],
    }
}
/// The widest SE of B0 (7×7, after a 5×5 depthwise) and of V2-S (12×12 at 384, 3×3).
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_se_1152to48", 1152, 48, 7, 5),
        case("v2s_se_1536to64", 1536, 64, 12, 3),
    ]
}
