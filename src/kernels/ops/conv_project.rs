//! The fused conv + projection op (`graph::ops::ConvProjectOp`: EfficientNetV2's
//! fused-MBConv block, a dense k×k conv that expands and the 1×1 conv that projects back)
//! as the kernels that run it compute it: its parameter block (the projection's, with the
//! conv's geometry and weight layout), its cost and its real-shape cases. Only the GPU
//! family has a kernel for it (`kernels::gpu::conv_project`): graphs are fused for that
//! family only (`kernels::fuse`), so the CPU family never meets it.

use super::conv;
use super::pointwise;
use crate::graph::ops::{ConvGeom, ConvOp, ConvProjectOp, PointwiseOp};
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, u};
use crate::model::Activation;
use crate::model::weights::ConvKind;

params! {
    /// `P` of shaders/gpu/pointwise.wgsl with shaders/gpu/pw_conv.wgsl: the projection's
    /// fields (`c_in` .. `batch`, as `PointwiseParams`; its input is the conv's output,
    /// computed in the kernel) and the conv's: `cin` channels of `e_h`×`e_w` in, the
    /// expanded plane `w_mid` wide (`EXPAND_K`, `EXPAND_STRIDE` overrides), weight
    /// (c, ci, ky, kx) at ((c / e_ch · cin + ci) · k + ky) · e_rs + c % e_ch · e_kp + kx and
    /// bias c at e_bias + c (`ops::conv::layout`).
    ConvProjectParams {
        c_in: u32,
        hw: u32,
        c_out: u32,
        rows: u32,
        bias_off: u32,
        batch: u32,
        cin: u32,
        e_h: u32,
        e_w: u32,
        w_mid: u32,
        e_pad_top: u32,
        e_pad_left: u32,
        e_ch: u32,
        e_rs: u32,
        e_kp: u32,
        e_bias: u32,
    }
}

/// The dispatch every kernel of the op shares: the projection's (`pointwise::dispatch`),
/// reading the conv's input, with the conv's weights at `aux` (the projection has no gate).
pub(crate) fn dispatch(g: &Graph, op: &ConvProjectOp) -> DispatchDesc {
    let mut d = pointwise::dispatch(g, &op.project);
    let Params::Pointwise(p) = d.params else {
        unreachable!("pointwise::dispatch gives pointwise parameters")
    };
    let (i, mid) = (g.shapes[op.conv.input], g.shapes[op.conv.output]);
    let ConvGeom {
        k,
        pad_top,
        pad_left,
        layer,
        ..
    } = op.conv.geom;
    let rs = conv::block_stride(k);
    d.params = Params::ConvProject(ConvProjectParams {
        c_in: p.c_in,
        hw: p.hw,
        c_out: p.c_out,
        rows: p.rows,
        bias_off: p.bias_off,
        batch: p.batch,
        cin: u(i.c),
        e_h: u(i.h),
        e_w: u(i.w),
        w_mid: u(mid.w),
        e_pad_top: u(pad_top),
        e_pad_left: u(pad_left),
        e_ch: u(conv::CHANNELS),
        e_rs: u(rs),
        e_kp: u(k.next_multiple_of(4)),
        e_bias: u(mid.c.div_ceil(conv::CHANNELS) * i.c * k * rs),
    });
    d.src = Some(op.conv.input);
    d.aux = Aux::Weights(WeightRef::Conv(layer));
    d
}

/// FLOPs and bytes of the fused op: both convs' FLOPs, the bytes of both but the tensor
/// between them (written and read back unfused), which never leaves the kernel, and the
/// residual where it is the conv's input, which the kernel then reads twice (the second
/// time from cache: only the first read is compulsory).
pub(crate) fn cost(g: &Graph, op: &ConvProjectOp) -> (u64, u64) {
    let (cf, cb) = conv::cost(g, &op.conv);
    let (pf, pb) = pointwise::cost(g, &op.project);
    let len = |t: usize| 4 * g.shapes[t].len() as u64;
    let twice = (op.project.residual == Some(op.conv.input)).then(|| len(op.conv.input));
    (
        cf + pf,
        cb + pb - 2 * len(op.conv.output) - twice.unwrap_or(0),
    )
}

/// A k×k conv at `stride` from `cin` to `cmid` channels on `h`×`h` (SiLU), then a
/// projection to `cout` (no activation), with the block's input as residual when asked
/// (stride 1 and `cout == cin` only).
pub(crate) fn case(
    name: &'static str,
    (cin, cmid, cout): (usize, usize, usize),
    h: usize,
    (k, stride): (usize, usize),
    residual: bool,
) -> Case {
    let mid = out_size(h, k, stride);
    let shapes = vec![square(cin, h), square(cmid, mid), square(cout, mid)];
    let conv = ConvOp {
        input: 0,
        output: 1,
        geom: geom(k, stride),
        residual: None,
    };
    let project = PointwiseOp {
        input: 1,
        output: 2,
        layer: 1,
        act: Activation::Identity,
        gate: None,
        residual: residual.then_some(0),
    };
    let op = Op::ConvProject(ConvProjectOp { conv, project });
    let convs = vec![
        conv_weights(name, cmid, cin * k * k, ConvKind::Dense { k }),
        conv_weights("project", cout, cmid, ConvKind::Gemm),
    ];
    Case::new(name, shapes, op, convs_only(convs))
}

/// V2-S's fused-MBConv blocks that expand, at 384: the first of stage 1 (stride 2) and of
/// stage 2, and a later one of each, with its residual.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case(
            "v2s_c3x3s2_24to96_p48_192",
            (24, 96, 48),
            192,
            (3, 2),
            false,
        ),
        case(
            "v2s_c3x3_48to192_p48_96_res",
            (48, 192, 48),
            96,
            (3, 1),
            true,
        ),
        case(
            "v2s_c3x3s2_48to192_p64_96",
            (48, 192, 64),
            96,
            (3, 2),
            false,
        ),
        case(
            "v2s_c3x3_64to256_p64_48_res",
            (64, 256, 64),
            48,
            (3, 1),
            true,
        ),
    ]
}
