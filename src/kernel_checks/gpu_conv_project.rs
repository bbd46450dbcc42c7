//! The GPU family's fused conv + projection kernel (`kernels::gpu::conv_project`) against
//! the reference, which runs the two ops apart: V2-S's fused-MBConv layers, odd shapes (C
//! not a multiple of 4 at every width, H or W = 1, 1×1 planes, odd sizes at stride 2, TF
//! padding, batch 2 and 3, a residual, 64 output channels), in packed f16 and f16
//! arithmetic; and that a session really fuses them.

use super::check;
use crate::gpu::{GpuWeights, Precision};
use crate::graph::ops::{ConvGeom, ConvOp, ConvProjectOp, PointwiseOp, Shape};
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only};
use crate::kernels::ops::conv_project;
use crate::kernels::{Family, OpKind};
use crate::model::Activation;
use crate::model::weights::ConvKind;
use crate::runtime::Executor;

/// One odd shape: batch, channels in / expanded / out, input height and width, stride,
/// no padding before (TF's "same" at stride 2 on even sizes) or 1 on each side, residual.
#[derive(Clone, Copy)]
struct Spec {
    n: usize,
    c: (usize, usize, usize),
    hw: (usize, usize),
    stride: usize,
    tf_pad: bool,
    residual: bool,
}

const fn spec(n: usize, c: (usize, usize, usize), hw: (usize, usize), stride: usize) -> Spec {
    Spec {
        n,
        c,
        hw,
        stride,
        tf_pad: false,
        residual: false,
    }
}

const fn with_residual(s: Spec) -> Spec {
    Spec {
        residual: true,
        ..s
    }
}

const fn tf_padded(s: Spec) -> Spec {
    Spec { tf_pad: true, ..s }
}

const ODD: [Spec; 10] = [
    spec(1, (5, 13, 7), (9, 9), 1),
    with_residual(spec(2, (7, 21, 7), (5, 5), 1)),
    spec(1, (3, 37, 11), (1, 1), 1),
    spec(2, (6, 24, 10), (13, 7), 2),
    tf_padded(spec(1, (4, 16, 8), (12, 12), 2)),
    spec(2, (8, 40, 64), (16, 16), 1),
    with_residual(spec(1, (5, 20, 5), (1, 17), 1)),
    spec(3, (4, 12, 9), (11, 1), 2),
    with_residual(spec(3, (24, 96, 24), (7, 7), 1)),
    tf_padded(spec(2, (9, 50, 33), (15, 10), 2)),
];

/// A 3×3 conv (ReLU6, so a wrong activation shows) and a projection after it, fused.
fn case(i: usize, s: Spec) -> Case {
    let (cin, cmid, cout) = s.c;
    let (h, w) = s.hw;
    let pad = if s.tf_pad { 0 } else { 1 };
    // Without padding before, the rows and columns past the input (up to 2) are padding.
    let out = |x: usize| match s.tf_pad {
        true => x.div_ceil(s.stride),
        false => (x + 2 * pad - 3) / s.stride + 1,
    };
    let (oh, ow) = (out(h), out(w));
    let shape = |c, h, w| Shape { n: s.n, c, h, w };
    let shapes = vec![shape(cin, h, w), shape(cmid, oh, ow), shape(cout, oh, ow)];
    let geom = ConvGeom {
        layer: 0,
        k: 3,
        stride: s.stride,
        pad_top: pad,
        pad_left: pad,
        act: Activation::Relu6,
    };
    let conv = ConvOp {
        input: 0,
        output: 1,
        geom,
        residual: None,
    };
    let project = PointwiseOp {
        input: 1,
        output: 2,
        layer: 1,
        act: Activation::Identity,
        gate: None,
        residual: s.residual.then_some(0),
    };
    let convs = vec![
        conv_weights(&format!("odd{i}"), cmid, cin * 9, ConvKind::Dense { k: 3 }),
        conv_weights("project", cout, cmid, ConvKind::Gemm),
    ];
    let op = Op::ConvProject(ConvProjectOp { conv, project });
    Case::new("conv_project_odd", shapes, op, convs_only(convs))
}

fn odd() -> Vec<Case> {
    ODD.iter().enumerate().map(|(i, &s)| case(i, s)).collect()
}

#[test]
fn v2s_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &conv_project::cases());
}

#[test]
fn odd_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &odd());
}

/// Packed f16 storage (its output stored in whole words, the conv's weights read as packed
/// halves at `aux`) and native f16 with f16 arithmetic.
#[test]
fn f16_storage_and_arithmetic_match_the_reference() {
    let cases = odd();
    check::cases_packed_f16(Family::Gpu, &cases);
    check::cases_f16_math(&cases);
}

/// A GPU-family session of a conv and its projection runs one dispatch, the fused kernel,
/// unless its tuning says apart; a CPU-family one runs the two apart; past 64 output
/// channels the GPU family runs them apart too.
#[test]
fn sessions_fuse_in_the_gpu_family_only() {
    let Some(mut gpu) = check::gpu() else { return };
    gpu.tuning.gpu_fused_convs = true;
    let kernels = |gpu: &crate::gpu::Gpu, case: &Case, family: Family| {
        let unfused: Graph = crate::graph::fuse::split(case.graph.clone());
        let weights = GpuWeights::new(gpu, &case.weights, Precision::F32);
        let e = Executor::new(gpu, &weights, unfused, false, family).unwrap();
        (e.graph().ops.iter()).map(OpKind::of).collect::<Vec<_>>()
    };
    let v2s = &conv_project::cases()[1];
    assert_eq!(kernels(&gpu, v2s, Family::Gpu), [OpKind::ConvProject]);
    let apart = [OpKind::Conv, OpKind::Pointwise];
    assert_eq!(kernels(&gpu, v2s, Family::Cpu), apart);
    let wide = case(0, spec(1, (8, 32, 65), (6, 6), 1));
    assert_eq!(
        kernels(&gpu, &wide, Family::Gpu),
        apart,
        "65 output channels"
    );
    gpu.tuning.gpu_fused_convs = false;
    assert_eq!(kernels(&gpu, v2s, Family::Gpu), apart, "tuned apart");
}
