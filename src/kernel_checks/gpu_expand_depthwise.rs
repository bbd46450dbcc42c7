//! The GPU family's fused expansion + depthwise kernel (`kernels::gpu::expand_depthwise`)
//! against the reference, which runs the two ops apart: B0's and V2-S's fused layers, the
//! depthwise kernel's odd shapes (`gpu_depthwise::ODD`: C not a multiple of 4, H or W = 1,
//! odd sizes at stride 2, batch 2, TF padding) behind expansions of odd channel counts and
//! behind a stem-like 3×3 stride-2 conv, in every tiling path, its SE sums through the gate after it, in packed f16 and f16
//! arithmetic; and that a session really fuses them.

use super::check;
use super::gpu_depthwise::{ODD, PATHS, Spec, Tail, allowed};
use crate::gpu::{GpuWeights, Precision};
use crate::graph::ops::{ConvGeom, ConvOp, ExpandDepthwiseOp, Expansion, PointwiseOp};
use crate::graph::{Graph, Op, Shape};
use crate::kernels::case::{Case, conv_weights};
use crate::kernels::gpu::depthwise::{ONLY, Tiling};
use crate::kernels::ops::expand_depthwise;
use crate::kernels::{Family, OpKind};
use crate::model::Activation;
use crate::model::weights::{ConvKind, ConvWeights};
use crate::runtime::Executor;

/// What a case's depthwise layer is fused with: a 1×1 expansion from this many channels
/// (ReLU6, so a wrong activation shows), or a stem-like 3×3 stride-2 conv from 3 channels
/// (inputs of 2·h − 1 rows and columns, odd sizes for its own padding).
#[derive(Clone, Copy)]
enum Before {
    Expansion(usize),
    Stem,
}

impl Before {
    /// The conv's input shape, the conv (weights `layer`) and its weights, for a depthwise
    /// layer over `mid`.
    fn conv(self, mid: Shape, layer: usize) -> (Shape, Expansion, ConvWeights) {
        match self {
            Before::Expansion(cin) => {
                let expand = Expansion::Pointwise(PointwiseOp {
                    input: 0,
                    output: 1,
                    layer,
                    act: Activation::Relu6,
                    gate: None,
                    residual: None,
                });
                let w = conv_weights("expand", mid.c, cin, ConvKind::Gemm);
                (Shape { c: cin, ..mid }, expand, w)
            }
            Before::Stem => {
                let (h, w) = (2 * mid.h - 1, 2 * mid.w - 1);
                let geom = ConvGeom {
                    layer,
                    k: 3,
                    stride: 2,
                    pad_top: 1,
                    pad_left: 1,
                    act: Activation::Silu,
                };
                let conv = ConvOp {
                    input: 0,
                    output: 1,
                    geom,
                    residual: None,
                };
                let weights = conv_weights("stem", mid.c, 27, ConvKind::Dense { k: 3 });
                (Shape { c: 3, h, w, ..mid }, Expansion::Conv(conv), weights)
            }
        }
    }
}

/// `case` (a depthwise layer and what follows it) behind `before`, fused into its first op;
/// tensors move up by one.
fn behind(case: Case, before: Before) -> Case {
    let Case {
        name,
        graph,
        mut weights,
    } = case;
    let shift = |t: usize| t + 1;
    let mid = graph.shapes[graph.input];
    let (x, expand, w) = before.conv(mid, weights.convs.len());
    let mut shapes = vec![x];
    shapes.extend(graph.shapes);
    let ops = (graph.ops.into_iter()).map(|op| match op {
        Op::Depthwise(mut d) => {
            (d.input, d.output, d.se_sums) =
                (shift(d.input), shift(d.output), d.se_sums.map(shift));
            Op::ExpandDepthwise(ExpandDepthwiseOp {
                expand,
                depthwise: d,
            })
        }
        Op::SeExcite(mut e) => {
            (e.sums, e.gate) = (shift(e.sums), shift(e.gate));
            Op::SeExcite(e)
        }
        op => unreachable!("a depthwise case holds {op:?}"),
    });
    let ops = ops.collect();
    weights.convs.push(w);
    let graph = Graph {
        shapes,
        ops,
        input: 0,
        logits: shift(graph.logits),
        stages: vec![],
    };
    Case {
        name,
        graph,
        weights,
    }
}

/// The depthwise odd shapes `only` allows, behind expansions of 3 and 5 channels and the
/// stem in turn.
fn odd(specs: &[Spec], tail: Tail, only: fn(&Tiling) -> bool) -> Vec<Case> {
    let before = [Before::Expansion(3), Before::Expansion(5), Before::Stem];
    let cases = allowed(specs, tail, only).into_iter().enumerate();
    cases.map(|(i, c)| behind(c, before[i % 3])).collect()
}

#[test]
fn b0_and_v2s_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &expand_depthwise::cases());
}

#[test]
fn odd_shapes_match_the_reference_in_every_tiling() {
    for only in PATHS {
        ONLY.set(only);
        check::cases_in(Family::Gpu, &odd(&ODD, Tail::Output, only));
    }
    ONLY.set(|_| true);
}

/// The SE sums it leaves feed the SE kernel after it: its gate matches the reference's.
#[test]
fn se_after_it_matches_the_reference() {
    let specs = [ODD[0], ODD[5], ODD[6], ODD[7], ODD[9]];
    check::cases_in(Family::Gpu, &odd(&specs, Tail::Gate, |_| true));
}

/// Packed f16 storage (its output stored in whole words, the expansion's weights read as
/// packed halves) and native f16 with f16 arithmetic.
#[test]
fn f16_storage_and_arithmetic_match_the_reference() {
    let cases = odd(&ODD, Tail::Output, |_| true);
    check::cases_packed_f16(Family::Gpu, &cases);
    check::cases_packed_f16(Family::Gpu, &odd(&ODD[..6], Tail::Gate, |t| t.bands > 1));
    check::cases_f16_math(&cases);
}

/// A GPU-family session of an expansion and a depthwise conv runs one dispatch, the fused
/// kernel, unless its tuning says apart; a CPU-family one runs the two apart.
#[test]
fn sessions_fuse_in_the_gpu_family_only() {
    let Some(mut gpu) = check::gpu() else { return };
    gpu.tuning.gpu_fused_blocks = true;
    let case = &expand_depthwise::cases()[2];
    let unfused = crate::graph::fuse::split(case.graph.clone());
    let weights = GpuWeights::new(&gpu, &case.weights, Precision::F32);
    let kernels = |family: Family| {
        let e = Executor::new(&gpu, &weights, unfused.clone(), false, family).unwrap();
        (e.graph().ops.iter()).map(OpKind::of).collect::<Vec<_>>()
    };
    assert_eq!(kernels(Family::Gpu), [OpKind::ExpandDepthwise]);
    assert_eq!(kernels(Family::Cpu), [OpKind::Pointwise, OpKind::Depthwise]);
    gpu.tuning.gpu_fused_blocks = false;
    let weights = GpuWeights::new(&gpu, &case.weights, Precision::F32);
    let e = Executor::new(&gpu, &weights, unfused.clone(), false, Family::Gpu).unwrap();
    assert_eq!(e.graph().ops.len(), 2, "tuned apart");
}
