//! The depthwise op as every family computes it (depthwise k×k convolution + folded BN + activation, with the SE partial sums of its output): its
//! parameter block, the weight layout both families read, its cost and the real-shape
//! cases tests, benches and the tuner share. Each family's `describe` and shader are in
//! `kernels::cpu::depthwise` and `kernels::gpu::depthwise`.

use crate::graph::ops::DepthwiseOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, u};
use crate::model::weights::{ConvKind, ConvWeights};

params! {
    /// `P` of shaders/cpu/depthwise.wgsl.
    DepthwiseParams {
        /// Channels (in = out).
        c: u32,
        h_in: u32,
        w_in: u32,
        h_out: u32,
        w_out: u32,
        pad_top: u32,
        pad_left: u32,
        /// Slots per kernel row of a channel's weight block.
        row_stride: u32,
        /// Workgroups per channel.
        tiles: u32,
        /// Planes: batch × channels (the GPU family's kernel).
        planes: u32,
        /// SE partial sums per channel (`se_partials`; the GPU family's kernel).
        partials: u32,
    }
}
/// Slots per kernel row of a weight block: the row padded to 8 (whole `shared8` blocks)
/// with at least one slot left for the bias.
pub(crate) fn row_stride(k: usize) -> usize {
    (k + 1).next_multiple_of(4).max(8)
}
/// `[c, k, k]` + bias → `[c, k, row_stride(k)]` with zero padding and channel c's bias in
/// the last slot of its row 0, so one block holds everything an invocation needs.
pub(crate) fn layout(c: &ConvWeights, k: usize) -> Vec<f32> {
    let rs = row_stride(k);
    let mut t = vec![0.0; c.bias.len() * k * rs];
    for (ch, (taps, &b)) in c.weight.chunks(k * k).zip(&c.bias).enumerate() {
        let block = &mut t[ch * k * rs..(ch + 1) * k * rs];
        for (row, src) in block.chunks_mut(rs).zip(taps.chunks(k)) {
            row[..k].copy_from_slice(src);
        }
        block[rs - 1] = b;
    }
    t
}
/// FLOPs and bytes of a depthwise conv.
pub(crate) fn cost(g: &Graph, op: &DepthwiseOp) -> (u64, u64) {
    let (i, o, k) = (g.shapes[op.input], g.shapes[op.output], op.geom.k);
    let macs = o.len() as u64 * (k * k) as u64;
    let weights = (o.c * k * k) as u64;
    (2 * macs, 4 * ((i.len() + o.len()) as u64 + weights))
}
/// A k×k depthwise conv over `c` channels of `h`×`h`.
pub(crate) fn case(name: &'static str, c: usize, h: usize, k: usize, stride: usize) -> Case {
    let shapes = vec![square(c, h), square(c, out_size(h, k, stride))];
    let op = Op::Depthwise(DepthwiseOp {
        input: 0,
        output: 1,
        geom: geom(k, stride),
        se_sums: None,
    });
    let w = conv_weights(name, c, k * k, ConvKind::Depthwise { k });
    Case::new(name, shapes, op, convs_only(vec![w]))
}
/// B0's depthwise layers of each kernel size and stride, and V2-S's widest.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_dw3x3s1_c32_112", 32, 112, 3, 1),
        case("b0_dw3x3s2_c96_112", 96, 112, 3, 2),
        case("b0_dw5x5s2_c144_56", 144, 56, 5, 2),
        case("b0_dw5x5s1_c672_14", 672, 14, 5, 1),
        case("v2s_dw3x3s1_c1536_12", 1536, 12, 3, 1),
    ]
}

/// The half of a depthwise conv's dispatch every family shares: its parameters (`tiles`
/// left 0, the CPU family's to set), weights, tensors and the SE sums it writes, as many per
/// channel as the graph holds (`kernels::se_partials`). Each family's `describe` adds its
/// constants and grid.
pub(crate) fn dispatch(g: &Graph, op: &DepthwiseOp) -> DispatchDesc {
    let DepthwiseOp {
        input,
        output,
        geom,
        se_sums,
    } = *op;
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let p = DepthwiseParams {
        c: u(o.c),
        h_in: u(i.h),
        w_in: u(i.w),
        h_out: u(o.h),
        w_out: u(o.w),
        pad_top: u(geom.pad_top),
        pad_left: u(geom.pad_left),
        row_stride: u(row_stride(geom.k)),
        tiles: 0,
        planes: u(o.n * o.c),
        partials: u(crate::kernels::se_partials(o.h, o.w, &geom)),
    };
    let weights = WeightRef::Conv(geom.layer);
    let mut d = DispatchDesc::new(Params::Depthwise(p), weights, input, output);
    d.aux = se_sums.map_or(Aux::None, Aux::Tensor);
    d
}
