//! The fused expansion + depthwise op (`graph::ops::ExpandDepthwiseOp`) as the kernels that
//! run it compute it: its parameter block (the depthwise conv's, with the expansion's input
//! channels and weight rows), its cost, and its real-shape cases. Only the GPU family has a
//! kernel for it (`kernels::gpu::expand_depthwise`): graphs are fused for that family only
//! (`kernels::fuse`), so the CPU family never meets it.

use super::depthwise::{self, DepthwiseParams};
use super::pointwise::{self, gemm_rows};
use crate::graph::ops::{DepthwiseOp, ExpandDepthwiseOp, PointwiseOp};
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{DispatchDesc, Params, WeightRef, u};
use crate::model::Activation;
use crate::model::weights::ConvKind;

params! {
    /// `P` of shaders/gpu/depthwise.wgsl with shaders/gpu/dw_expand.wgsl: the depthwise
    /// conv's fields (its input is the expanded tensor, computed in the kernel) and the
    /// expansion's.
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
        /// The expansion's input channels.
        cin: u32,
        /// Slots per row of the expansion's weights (`gemm_rows(c)`); its biases follow
        /// its `cin` rows.
        e_rows: u32,
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
    d.src = Some(op.expand.input);
    d.extra_weights = Some(WeightRef::Conv(op.expand.layer));
    d
}

fn with_expansion(p: DepthwiseParams, g: &Graph, e: &PointwiseOp) -> ExpandDepthwiseParams {
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
        cin: u(g.shapes[e.input].c),
        e_rows: u(gemm_rows(g.shapes[e.output].c)),
    }
}

/// FLOPs and bytes of the fused op: both convs' FLOPs, the bytes of both but the expanded
/// tensor (written and read back unfused), which never leaves the kernel.
pub(crate) fn cost(g: &Graph, op: &ExpandDepthwiseOp) -> (u64, u64) {
    let (ef, eb) = pointwise::cost(g, &op.expand);
    let (df, db) = depthwise::cost(g, &op.depthwise);
    let mid = 4 * g.shapes[op.expand.output].len() as u64;
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
    let shapes = vec![
        square(cin, h),
        square(c, h),
        square(c, out_size(h, k, stride)),
    ];
    let op = Op::ExpandDepthwise(ExpandDepthwiseOp {
        expand: PointwiseOp {
            input: 0,
            output: 1,
            layer: 0,
            act: Activation::Silu,
            gate: None,
            residual: None,
        },
        depthwise: DepthwiseOp {
            input: 1,
            output: 2,
            geom: crate::graph::ops::ConvGeom {
                layer: 1,
                ..geom(k, stride)
            },
            se_sums: None,
        },
    });
    let expand = conv_weights(name, c, cin, ConvKind::Gemm);
    let dw = conv_weights("depthwise", c, k * k, ConvKind::Depthwise { k });
    Case::new(name, shapes, op, convs_only(vec![expand, dw]))
}

/// B0's fused layers of each kernel size and stride at 224, and V2-S's widest at 384.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_e16to96_dw3x3s2_112", 16, 96, 112, 3, 2),
        case("b0_e24to144_dw5x5s2_56", 24, 144, 56, 5, 2),
        case("b0_e112to672_dw5x5s1_14", 112, 672, 14, 5, 1),
        case("v2s_e256to1536_dw3x3s1_12", 256, 1536, 12, 3, 1),
    ]
}
