//! The conv op as every family computes it (dense k×k convolution + folded BN + activation (+ residual)): its
//! parameter block, the weight layout both families read, its cost and the real-shape
//! cases tests, benches and the tuner share. Each family's `describe` and shader are in
//! `kernels::cpu::conv` and `kernels::gpu::conv`.

use crate::graph::ops::ConvOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{DispatchDesc, Params, WeightRef, u};
use crate::model::weights::{ConvKind, ConvWeights};

/// Output channels one invocation computes (`CO`; the shader's 16 named accumulators). 16
/// rather than 4: on lavapipe each input row load then serves 4× the multiply-adds
/// (EfficientNetV2-S at 300: fused-MBConv convs 2× faster).
pub(crate) const CHANNELS: usize = 16;
params! {
    /// `P` of shaders/cpu/conv.wgsl.
    ConvParams {
        c_in: u32,
        h_in: u32,
        w_in: u32,
        c_out: u32,
        h_out: u32,
        w_out: u32,
        pad_top: u32,
        pad_left: u32,
        /// Slots per weight block (`block_stride`).
        block_stride: u32,
        /// Where the biases start, after the weight blocks.
        bias_off: u32,
        /// Images in the batch (the GPU family's conv tiles pixels across them).
        n: u32,
    }
}
/// Slots per weight block: the k weights of each of the `CHANNELS` output channels for one
/// (input channel, kernel row), padded to whole vec4s (`shared_quads` in shaders/cpu/conv.wgsl).
pub(crate) fn block_stride(k: usize) -> usize {
    CHANNELS * k.next_multiple_of(4)
}
/// `[out, in, k, k]` → `[out / CHANNELS][in][k][block_stride(k)]`, channel j of a block at
/// j·kp + kx (kp = k rounded up to 4), zero-padded (channels past `out` included); the bias
/// after it.
pub(crate) fn layout(c: &ConvWeights, k: usize) -> Vec<f32> {
    let (out, rs) = (c.bias.len(), block_stride(k));
    let inputs = c.weight.len() / (out * k * k).max(1);
    let mut t = vec![0.0; out.div_ceil(CHANNELS) * inputs * k * rs];
    for (i, &w) in c.weight.iter().enumerate() {
        let (co, ci, ky, kx) = (i / (inputs * k * k), i / (k * k) % inputs, i / k % k, i % k);
        let block = ((co / CHANNELS * inputs + ci) * k + ky) * rs;
        t[block + co % CHANNELS * k.next_multiple_of(4) + kx] = w;
    }
    t.extend_from_slice(&c.bias);
    t
}
/// FLOPs and bytes of a conv.
pub(crate) fn cost(g: &Graph, op: &ConvOp) -> (u64, u64) {
    let (i, o, k) = (g.shapes[op.input], g.shapes[op.output], op.geom.k);
    let len = |t: usize| g.shapes[t].len() as u64;
    let weights = (o.c * i.c * k * k) as u64;
    let macs = o.len() as u64 * (i.c * k * k) as u64;
    // A residual that is the input (EfficientNetV2's stage-0 blocks) is read again from
    // cache where the conv has just read it: only the first read is compulsory.
    let residual = op.residual.filter(|&r| r != op.input).map_or(0, len);
    let bytes = (i.len() + o.len()) as u64 + weights + residual;
    (2 * macs, 4 * bytes)
}
/// A `cin` → `cout` k×k conv on `h`×`h` inputs.
pub(crate) fn case(
    name: &'static str,
    cin: usize,
    cout: usize,
    h: usize,
    k: usize,
    s: usize,
) -> Case {
    let shapes = vec![square(cin, h), square(cout, out_size(h, k, s))];
    let op = Op::Conv(ConvOp {
        input: 0,
        output: 1,
        geom: geom(k, s),
        residual: None,
    });
    let w = conv_weights(name, cout, cin * k * k, ConvKind::Dense { k });
    Case::new(name, shapes, op, convs_only(vec![w]))
}
/// B0's stem and V2-S's costliest fused-MBConv expansion.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_stem_3x3s2_3to32_224", 3, 32, 224, 3, 2),
        case("v2s_fused_3x3s2_24to96_192", 24, 96, 192, 3, 2),
    ]
}

/// The half of a conv's dispatch every family shares: its parameters, weights, tensors and
/// residual. Each family's `describe` adds its constants and grid.
pub(crate) fn dispatch(g: &Graph, op: &ConvOp) -> DispatchDesc {
    let ConvOp {
        input,
        output,
        geom,
        residual,
    } = *op;
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let rs = block_stride(geom.k);
    let p = ConvParams {
        c_in: u(i.c),
        h_in: u(i.h),
        w_in: u(i.w),
        c_out: u(o.c),
        h_out: u(o.h),
        w_out: u(o.w),
        pad_top: u(geom.pad_top),
        pad_left: u(geom.pad_left),
        block_stride: u(rs),
        bias_off: u(o.c.div_ceil(CHANNELS) * i.c * geom.k * rs),
        n: u(o.n),
    };
    let weights = WeightRef::Conv(geom.layer);
    let mut d = DispatchDesc::new(Params::Conv(p), weights, input, output);
    d.residual = residual;
    d
}
