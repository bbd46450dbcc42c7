//! The GPU family's depthwise conv (`kernels::gpu::depthwise`) on the GPU: B0's and V2-S's
//! layers, odd shapes in every tiling path (`PATHS`, forced through `depthwise::ONLY`), f16
//! arithmetic, the SE gate after it, and its SE sums slot by slot (the gate would hide a
//! small error in one slot).

use super::check;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::ops::{ConvGeom, DepthwiseOp, SeExciteOp};
use crate::graph::{Graph, Op, Shape};
use crate::kernels::Family;
use crate::kernels::case::{Case, conv_weights, convs_only};
use crate::kernels::gpu::depthwise::{ONLY, Tiling, candidates};
use crate::kernels::ops::depthwise;
use crate::kernels::se_partials;
use crate::model::Activation;
use crate::model::rule::{rule_input, rule_tensor};
use crate::model::weights::{ConvKind, SeWeights};
use crate::reference;
use crate::runtime::Executor;

/// What a test case's graph outputs after the depthwise layer.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Tail {
    /// Its output (no SE sums).
    Output,
    /// The SE sums it leaves.
    Sums,
    /// The gate of an SE block (CPU family) reading those sums.
    Gate,
}

/// Output size and padding before the first row of a `k`, `s` layer over `x` inputs:
/// TF "same" (the extra row at the end) or symmetric k / 2.
fn dim(x: usize, k: usize, s: usize, tf: bool) -> (usize, usize) {
    if tf {
        let out = x.div_ceil(s);
        (out, ((out - 1) * s + k).saturating_sub(x) / 2)
    } else {
        ((x + 2 * (k / 2) - k) / s + 1, k / 2)
    }
}

/// (name, batch, channels, h×w, k, stride, TF padding): channels not a multiple of 4,
/// H or W = 1, odd sizes at stride 2, asymmetric padding, batch 2, planes of odd size
/// split in bands, rows of whole vec4s in and out, 1×1 planes (one lane each).
pub(crate) type Spec = (
    &'static str,
    usize,
    usize,
    (usize, usize),
    usize,
    usize,
    bool,
);
pub(crate) const ODD: [Spec; 11] = [
    ("c5_15x15_k5s2", 1, 5, (15, 15), 5, 2, false),
    ("c3_1x9_k3s1", 1, 3, (1, 9), 3, 1, false),
    ("c6_10x1_k5s2", 1, 6, (10, 1), 5, 2, false),
    ("tf_c7_14x14_k5s2", 1, 7, (14, 14), 5, 2, true),
    ("tf_c9_16x12_k3s2", 1, 9, (16, 12), 3, 2, true),
    ("b2_c6_7x7_k3s1", 2, 6, (7, 7), 3, 1, false),
    ("b2_c10_28x28_k5s1", 2, 10, (28, 28), 5, 1, false),
    ("c3_57x57_k3s1", 1, 3, (57, 57), 3, 1, false),
    ("tf_c3_57x57_k3s2", 1, 3, (57, 57), 3, 2, true),
    ("b2_c5_40x24_k3s2", 2, 5, (40, 24), 3, 2, false),
    ("b3_c7_1x1_k3s1", 3, 7, (1, 1), 3, 1, false),
];

pub(crate) fn layer((name, n, c, (h, w), k, stride, tf): Spec, tail: Tail) -> Case {
    let ((oh, pad_top), (ow, pad_left)) = (dim(h, k, stride, tf), dim(w, k, stride, tf));
    let act = Activation::Silu;
    let geom = ConvGeom {
        layer: 0,
        k,
        stride,
        pad_top,
        pad_left,
        act,
    };
    let output = Shape { n, c, h: oh, w: ow };
    let sums = Shape {
        h: 1,
        w: se_partials(oh, ow, &geom),
        ..output
    };
    let mut shapes = vec![Shape { n, c, h, w }, output];
    let se_sums = (tail != Tail::Output).then_some(shapes.len());
    shapes.extend(se_sums.map(|_| sums));
    let mut ops = vec![Op::Depthwise(DepthwiseOp {
        input: 0,
        output: 1,
        geom,
        se_sums,
    })];
    let kind = ConvKind::Depthwise { k };
    let mut weights = convs_only(vec![conv_weights(name, c, k * k, kind)]);
    if tail == Tail::Gate {
        let r = c.div_ceil(4);
        let hw = oh * ow;
        ops.push(Op::SeExcite(SeExciteOp {
            sums: 2,
            gate: 3,
            se: 0,
            reduced: r,
            hw,
            act,
        }));
        shapes.push(Shape {
            h: 1,
            w: 1,
            ..output
        });
        weights.ses.push(SeWeights {
            reduce_w: rule_tensor("reduce", &[r, c]),
            reduce_b: rule_tensor("reduce_bias", &[r]),
            expand_w: rule_tensor("expand", &[c, r]),
            expand_b: rule_tensor("expand_bias", &[c]),
        });
    }
    let logits = shapes.len() - 1;
    let graph = Graph {
        shapes,
        ops,
        input: 0,
        logits,
        stages: vec![],
    };
    Case {
        name,
        graph,
        weights,
    }
}

/// Tiling restrictions that between them take every path of the shader: the cost
/// model's choice, 1, 2 and 4 rows per block, bands, several planes per workgroup,
/// lanes looping over blocks, 128 or 256 lanes per plane.
pub(crate) const PATHS: [fn(&Tiling) -> bool; 7] = [
    |_| true,
    |t| t.rows == 1,
    |t| t.rows == 2,
    |t| t.rows == 4 && t.bands > 1,
    |t| t.ch > 1,
    |t| t.blocks > t.lpc,
    |t| t.lpc >= 128,
];

/// The cases of `specs` that have a tiling `only` allows.
pub(crate) fn allowed(specs: &[Spec], tail: Tail, only: fn(&Tiling) -> bool) -> Vec<Case> {
    let fits = |case: &Case| {
        let Op::Depthwise(op) = case.graph.ops[0] else {
            unreachable!()
        };
        let o = case.graph.shapes[op.output];
        let partials = se_partials(o.h, o.w, &op.geom);
        candidates(o, &op.geom, partials).iter().any(only)
    };
    specs.iter().map(|&s| layer(s, tail)).filter(fits).collect()
}

#[test]
fn b0_and_v2s_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &depthwise::cases());
}

#[test]
fn odd_shapes_match_the_reference_in_every_tiling() {
    for only in PATHS {
        ONLY.set(only);
        check::cases_in(Family::Gpu, &allowed(&ODD, Tail::Output, only));
    }
    ONLY.set(|_| true);
}

/// Native f16 storage with f16 arithmetic, in the cost model's tilings and with bands
/// (their SE sums too, through the gate).
#[test]
fn f16_arithmetic_matches_the_reference() {
    check::cases_f16_math(&depthwise::cases());
    check::cases_f16_math(&allowed(&ODD, Tail::Output, |_| true));
    check::cases_f16_math(&allowed(&ODD, Tail::Gate, |t| t.bands > 1));
}

/// SE sums feed the SE kernel that follows: its gate matches the reference's.
#[test]
fn se_after_it_matches_the_reference() {
    let specs = [ODD[0], ODD[5], ODD[6], ODD[7], ODD[9]];
    check::cases_in(Family::Gpu, &allowed(&specs, Tail::Gate, |_| true));
}

/// Each plane's SE slots add up to its total in the reference, in every tiling, with the
/// sums across a plane's lanes by subgroup operations and through workgroup memory; over
/// the cases, planes of 1 to 256 lanes (below, at and above any subgroup size).
#[test]
fn se_sums_add_up_to_the_reference_totals() {
    let Some(mut gpu) = check::gpu() else { return };
    let mut lanes_per_plane = vec![];
    for (lanes, variant) in check::subgroup_variants(&gpu) {
        gpu.subgroup_lanes = lanes;
        for only in PATHS {
            ONLY.set(only);
            for case in allowed(&ODD, Tail::Sums, only) {
                lanes_per_plane.push(sums_match(&gpu, &case, variant));
            }
        }
    }
    ONLY.set(|_| true);
    check::lanes_cover(&lanes_per_plane);
    assert!(lanes_per_plane.contains(&128), "{lanes_per_plane:?}");
}

/// Compares `case`'s per-plane totals with the reference's; returns its lanes per plane.
fn sums_match(gpu: &Gpu, case: &Case, variant: &str) -> u32 {
    let g = &case.graph;
    let d = crate::kernels::describe(g, &g.ops[0], &gpu.tuning, Family::Gpu);
    assert_eq!(d.kernel().family(), Family::Gpu, "{}", case.name);
    let input = rule_input(&g.shapes[g.input].dims());
    let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
    let weights = GpuWeights::new(gpu, &case.weights, Precision::F32);
    let run = Executor::new(gpu, &weights, g.clone(), false, Family::Gpu);
    let ours = run.unwrap().run(&input).unwrap().logits;
    let partials = g.shapes[g.logits].w;
    let totals = |v: &[f32]| -> Vec<f64> {
        let sum = |p: &[f32]| p.iter().map(|&x| x as f64).sum();
        v.chunks(partials).map(sum).collect()
    };
    let (ours, expected) = (totals(&ours), totals(&expected));
    let rms = (expected.iter().map(|v| v * v).sum::<f64>() / expected.len() as f64).sqrt();
    // check.rs's tolerance (1e-4 of the RMS): f32 sums of up to a few thousand outputs
    // stay within ~1e-6 of it.
    let tol = 1e-4 * rms.max(1e-3);
    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() <= tol,
            "{} {variant} plane {i}: ours {a}, reference {b}, tolerance {tol}",
            case.name
        );
    }
    let lpc = d.constants.iter().find(|(name, _)| *name == "LPC");
    lpc.map_or(0, |&(_, v)| v)
}
