//! The fused expansion + depthwise op (`graph::ops::ExpandDepthwiseOp`: a 1×1 expansion or
//! the stem conv, then a depthwise conv) as the kernels that run it compute it: its
//! parameter block (the depthwise conv's, with the expansion's geometry and weight layout),
//! its cost, and its real-shape cases. Only the GPU family has a
//! kernel for it (`kernels::gpu::expand_depthwise`): graphs are fused for that family only
//! (`kernels::fuse`), so the CPU family never meets it.

use super::conv;
use super::depthwise::{self, DepthwiseParams};
use super::pointwise::gemm_rows;
use crate::graph::ops::{ConvGeom, ConvOp, DepthwiseOp, ExpandDepthwiseOp, Expansion, PointwiseOp};
use crate::graph::{Graph, Op, Shape};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{DispatchDesc, Params, WeightRef, u};
use crate::model::Activation;
use crate::model::weights::{ConvKind, ConvWeights};

params! {
    /// `P` of shaders/gpu/depthwise.wgsl with shaders/gpu/dw_expand.wgsl: the depthwise
    /// conv's fields (its input is the expanded tensor, computed in the kernel) and the
    /// expansion's: a 1×1 or k×k conv (`EXPAND_K`, `EXPAND_STRIDE` overrides) from `cin`
    /// channels of `e_h`×`e_w`, whose weight (c, ci, ky, kx) is at
    /// ((c / e_ch · cin + ci) · k + ky) · e_rs + c % e_ch · e_kp + kx and bias c at
    /// e_bias + c (`ops::pointwise::layout` with one block of e_rows channels, kp = 1;
    /// `ops::conv::layout`).
    ExpandDepthwiseParams {
        /// Expanded channels (the depthwise conv's in = out).
        c: u32,
        h_in: u32,
        w_in: u32,
        h_out: u32,
        w_out: u32,
        pad_top: u32,
        pad_left: u32,
        /// Slots per kernel row of a channel's depthwise weight block.
        row_stride: u32,
        /// Unused (the CPU family's depthwise field; kept so the fields line up).
        tiles: u32,
        planes: u32,
        partials: u32,
        cin: u32,
        e_h: u32,
        e_w: u32,
        e_pad_top: u32,
        e_pad_left: u32,
        /// Output channels per weight block, slots per block row, per channel in a row.
        e_ch: u32,
        e_rs: u32,
        e_kp: u32,
        e_bias: u32,
    }
}

/// The dispatch every kernel of the op shares: the depthwise conv's (`depthwise::dispatch`),
/// reading the expansion's input, with the expansion's weights as the second weights.
pub(crate) fn dispatch(g: &Graph, op: &ExpandDepthwiseOp) -> DispatchDesc {
    let mut d = depthwise::dispatch(g, &op.depthwise);
    let Params::Depthwise(p) = d.params else {
        unreachable!("depthwise::dispatch gives depthwise parameters")
    };
    d.params = Params::ExpandDepthwise(with_expansion(p, g, &op.expand));
    d.src = Some(op.expand.input());
    d.extra_weights = Some(WeightRef::Conv(op.expand.layer()));
    d
}

/// The expansion's kernel size and stride.
pub(crate) fn expand_geometry(e: &Expansion) -> (usize, usize) {
    match e {
        Expansion::Pointwise(_) => (1, 1),
        Expansion::Conv(c) => (c.geom.k, c.geom.stride),
    }
}

fn with_expansion(p: DepthwiseParams, g: &Graph, e: &Expansion) -> ExpandDepthwiseParams {
    let (i, o) = (g.shapes[e.input()], g.shapes[e.output()]);
    // (pads, channels per block, block row, channel stride in a row, bias offset)
    let ((pt, pl), e_ch, e_rs, e_kp, e_bias) = match e {
        Expansion::Pointwise(_) => {
            let rows = gemm_rows(o.c);
            ((0, 0), rows, rows, 1, i.c * rows)
        }
        Expansion::Conv(c) => {
            let (k, rs) = (c.geom.k, conv::block_stride(c.geom.k));
            let bias = o.c.div_ceil(conv::CHANNELS) * i.c * k * rs;
            let pads = (c.geom.pad_top, c.geom.pad_left);
            (pads, conv::CHANNELS, rs, k.next_multiple_of(4), bias)
        }
    };
    ExpandDepthwiseParams {
        c: p.c,
        h_in: p.h_in,
        w_in: p.w_in,
        h_out: p.h_out,
        w_out: p.w_out,
        pad_top: p.pad_top,
        pad_left: p.pad_left,
        row_stride: p.row_stride,
        tiles: p.tiles,
        planes: p.planes,
        partials: p.partials,
        cin: u(i.c),
        e_h: u(i.h),
        e_w: u(i.w),
        e_pad_top: u(pt),
        e_pad_left: u(pl),
        e_ch: u(e_ch),
        e_rs: u(e_rs),
        e_kp: u(e_kp),
        e_bias: u(e_bias),
    }
}

/// FLOPs and bytes of the fused op: both convs' FLOPs, the bytes of both but the tensor
/// between them (written and read back unfused), which never leaves the kernel.
pub(crate) fn cost(g: &Graph, op: &ExpandDepthwiseOp) -> (u64, u64) {
    let (ef, eb) = crate::kernels::cost(g, &op.expand.op());
    let (df, db) = depthwise::cost(g, &op.depthwise);
    let mid = 4 * g.shapes[op.expand.output()].len() as u64;
    (ef + df, eb + db - 2 * mid)
}

/// An expansion of `cin` to `c` channels on `h`×`h` and a k×k depthwise conv over it.
pub(crate) fn case(
    name: &'static str,
    cin: usize,
    c: usize,
    h: usize,
    k: usize,
    stride: usize,
) -> Case {
    let expand = Expansion::Pointwise(PointwiseOp {
        input: 0,
        output: 1,
        layer: 0,
        act: Activation::Silu,
        gate: None,
        residual: None,
    });
    let weights = conv_weights(name, c, cin, ConvKind::Gemm);
    fused_case(name, (square(cin, h), h), (expand, weights), (c, k, stride))
}

/// A stem (3×3 stride 2 from 3 channels of `h`×`h`) and a k×k depthwise conv over it.
pub(crate) fn stem_case(name: &'static str, c: usize, h: usize, k: usize) -> Case {
    let expand = Expansion::Conv(ConvOp {
        input: 0,
        output: 1,
        geom: geom(3, 2),
        residual: None,
    });
    let weights = conv_weights(name, c, 3 * 9, ConvKind::Dense { k: 3 });
    let mid = out_size(h, 3, 2);
    fused_case(name, (square(3, h), mid), (expand, weights), (c, k, 1))
}

/// `expand` (layer 0: tensor 0, the input `x`, to tensor 1, `c` channels of `mid`×`mid`) and
/// a k×k depthwise conv at `stride` over its output (layer 1), fused.
fn fused_case(
    name: &'static str,
    (x, mid): (Shape, usize),
    (expand, weights): (Expansion, ConvWeights),
    (c, k, stride): (usize, usize, usize),
) -> Case {
    let shapes = vec![x, square(c, mid), square(c, out_size(mid, k, stride))];
    let depthwise = DepthwiseOp {
        input: 1,
        output: 2,
        geom: ConvGeom {
            layer: 1,
            ..geom(k, stride)
        },
        se_sums: None,
    };
    let op = Op::ExpandDepthwise(ExpandDepthwiseOp { expand, depthwise });
    let dw = conv_weights("depthwise", c, k * k, ConvKind::Depthwise { k });
    Case::new(name, shapes, op, convs_only(vec![weights, dw]))
}

/// B0's fused layers of each kernel size and stride at 224 (its stem and first depthwise
/// conv included), and V2-S's widest at 384.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        stem_case("b0_stem3to32_dw3x3s1_224", 32, 224, 3),
        case("b0_e16to96_dw3x3s2_112", 16, 96, 112, 3, 2),
        case("b0_e24to144_dw5x5s2_56", 24, 144, 56, 5, 2),
        case("b0_e112to672_dw5x5s1_14", 112, 672, 14, 5, 1),
        case("v2s_e256to1536_dw3x3s1_12", 256, 1536, 12, 3, 1),
    ]
}
