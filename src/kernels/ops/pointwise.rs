//! The pointwise op as every family computes it (1×1 convolution (a GEMM) + folded BN + activation, with the SE gate and residual fused): its
//! parameter block, the weight layout both families read, its cost and the real-shape
//! cases tests, benches and the tuner share. Each family's `describe` and shader are in
//! `kernels::cpu::pointwise` and `kernels::gpu::pointwise`.

use crate::graph::ops::PointwiseOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, square};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, u};
use crate::model::Activation;
use crate::model::weights::{ConvKind, ConvWeights};

/// The largest output-channel block a kernel reads a GEMM weight row with: rows are padded
/// to it (`gemm_rows`), so every block size a family may take stays inside its row.
pub(crate) const MAX_CO: usize = 32;

params! {
    /// `P` of shaders/cpu/pointwise.wgsl.
    PointwiseParams {
        c_in: u32,
        /// Pixels per channel plane.
        hw: u32,
        c_out: u32,
        /// Slots per weight row (`gemm_rows(c_out)`).
        rows: u32,
        /// Where the biases start, after the weights.
        bias_off: u32,
        /// Images (the GPU family's kernel treats all their pixels as one GEMM dimension).
        batch: u32,
    }
}
/// Output channels of a GEMM weight matrix rounded up to `MAX_CO`, so an invocation's vec4
/// weight loads stay inside the row whatever its channel block.
pub(crate) fn gemm_rows(out: usize) -> usize {
    out.next_multiple_of(MAX_CO)
}
/// `[out, in]` → `[in, gemm_rows(out)]` with zero padding, so the kernel reads four output
/// channels of one input channel as one vec4 (`wts4` in shaders/common/storage.wgsl); the bias
/// after it.
pub(crate) fn layout(c: &ConvWeights) -> Vec<f32> {
    let out = c.bias.len();
    let inputs = c.weight.len() / out.max(1);
    let rows = gemm_rows(out);
    let mut t = vec![0.0; inputs * rows];
    for (co, row) in c.weight.chunks(inputs.max(1)).enumerate() {
        for (ci, &w) in row.iter().enumerate() {
            t[ci * rows + co] = w;
        }
    }
    t.extend_from_slice(&c.bias);
    t
}
/// FLOPs and bytes of a 1×1 conv.
pub(crate) fn cost(g: &Graph, op: &PointwiseOp) -> (u64, u64) {
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let len = |t: usize| g.shapes[t].len() as u64;
    let macs = o.len() as u64 * i.c as u64;
    let extra = op.gate.map_or(0, len) + op.residual.map_or(0, len);
    let bytes = (i.len() + o.len() + o.c * i.c) as u64 + extra;
    (2 * macs, 4 * bytes)
}
/// A 1×1 conv on `h`×`h`; `gated` makes it a projection (SE gate, no activation), else an
/// expansion (SiLU).
pub(crate) fn case(name: &'static str, cin: usize, cout: usize, h: usize, gated: bool) -> Case {
    let mut shapes = vec![square(cin, h)];
    let gate = gated.then(|| {
        shapes.push(square(cin, 1));
        shapes.len() - 1
    });
    shapes.push(square(cout, h));
    let act = if gated {
        Activation::Identity
    } else {
        Activation::Silu
    };
    let op = Op::Pointwise(PointwiseOp {
        input: 0,
        output: shapes.len() - 1,
        layer: 0,
        act,
        gate,
        residual: None,
    });
    let w = conv_weights(name, cout, cin, ConvKind::Gemm);
    Case::new(name, shapes, op, convs_only(vec![w]))
}
/// B0's GEMMs from the widest plane to the head, and a V2-S expansion.
pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("b0_expand_16to96_112", 16, 96, 112, false),
        case("b0_project_gated_144to24_56", 144, 24, 56, true),
        case("b0_expand_192to1152_7", 192, 1152, 7, false),
        case("b0_head_320to1280_7", 320, 1280, 7, false),
        case("v2s_expand_128to512_24", 128, 512, 24, false),
    ]
}

/// The half of a 1×1 conv's dispatch every family shares: its parameters, weights, tensors,
/// SE gate and residual. Each family's `describe` adds its constants and grid.
pub(crate) fn dispatch(g: &Graph, op: &PointwiseOp) -> DispatchDesc {
    let PointwiseOp {
        input,
        output,
        layer,
        gate,
        residual,
        ..
    } = *op;
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let rows = gemm_rows(o.c);
    let p = PointwiseParams {
        c_in: u(i.c),
        hw: u(i.h * i.w),
        c_out: u(o.c),
        rows: u(rows),
        bias_off: u(rows * i.c),
        batch: u(o.n),
    };
    let weights = WeightRef::Conv(layer);
    let mut d = DispatchDesc::new(Params::Pointwise(p), weights, input, output);
    d.aux = gate.map_or(Aux::None, Aux::Tensor);
    d.residual = residual;
    d
}
