//! The GPU family's 1×1 conv (`kernels::gpu::pointwise`) on the GPU: B0's and V2-S's
//! layers, odd shapes that between them take every tile in both epilogues (aligned and odd
//! planes), and f16 arithmetic.

use super::check;
use crate::graph::Op;
use crate::graph::ops::{PointwiseOp, Shape};
use crate::kernels::case::{Case, conv_weights, convs_only};
use crate::kernels::gpu::DEFAULT_UNITS;
use crate::kernels::gpu::pointwise::tests::all_tiles;
use crate::kernels::gpu::pointwise::{Tile, describe};
use crate::kernels::{Family, ops::pointwise};
use crate::model::Activation;
use crate::model::weights::ConvKind;

/// A 1×1 conv at batch `n` on `h`×`w`, with a gate and a residual when asked for. A case
/// uploads only its input, so both come from ops before it (the same kernel, SiLU,
/// from the input): a gate is a c_in-channel tensor of which the GEMM reads the first
/// n × c_in values, a residual a c_out-channel one. (The input itself cannot be the
/// gate: `aux` is bound read-write, the input read-only.)
pub(crate) fn case(
    name: &'static str,
    (n, cin, cout, h, w): (usize, usize, usize, usize, usize),
    gate: bool,
    res: bool,
) -> Case {
    let shape = |c| Shape { n, c, h, w };
    let mut shapes = vec![shape(cin)];
    let mut convs = vec![];
    let mut ops = vec![];
    let mut from_input = |c: usize, act| {
        shapes.push(shape(c));
        let layer = convs.len();
        convs.push(conv_weights(
            &format!("{name}{layer}"),
            c,
            cin,
            ConvKind::Gemm,
        ));
        ops.push(Op::Pointwise(PointwiseOp {
            input: 0,
            output: shapes.len() - 1,
            layer,
            act,
            gate: None,
            residual: None,
        }));
        shapes.len() - 1
    };
    let gate = gate.then(|| from_input(cin, Activation::Silu));
    let residual = res.then(|| from_input(cout, Activation::Silu));
    // As B0's projections (gated, no activation) and expansions (SiLU).
    let act = if gate.is_some() {
        Activation::Identity
    } else {
        Activation::Silu
    };
    let output = from_input(cout, act);
    if let Some(Op::Pointwise(last)) = ops.last_mut() {
        (last.gate, last.residual) = (gate, residual);
    }
    let mut c = Case::new(name, shapes, ops[0].clone(), convs_only(convs));
    c.graph.ops = ops;
    assert_eq!(c.graph.logits, output);
    c
}

/// Shapes where tiles and words do not line up: channels not a multiple of 4, 1×1 and
/// odd planes (word-straddling stores, overlapping tiles), batch 2 (columns spanning
/// images), c_in below one slice, and enough columns for several overlapping tiles.
pub(super) fn odd_cases() -> Vec<Case> {
    vec![
        case("13to37_5x5", (1, 13, 37, 5, 5), false, false),
        case("13to37_1x1_b3", (3, 13, 37, 1, 1), true, false),
        case("37to13_7x7_b2_gate_res", (2, 37, 13, 7, 7), true, true),
        case("24to40_7x7_gate_res", (1, 24, 40, 7, 7), true, true),
        case("21to70_15x15_b2", (2, 21, 70, 15, 15), false, false),
        case("40to40_15x15_b2_gate_res", (2, 40, 40, 15, 15), true, true),
        case("3to8_8x8", (1, 3, 8, 8, 8), false, false),
        case("13to37_1x29_gate", (1, 13, 37, 1, 29), true, false),
        case("5to37_36x1", (1, 5, 37, 36, 1), false, false),
        case("36to36_6x6_b3_res", (3, 36, 36, 6, 6), false, true),
        case("96to200_7x3_b5", (5, 96, 200, 7, 3), true, false),
        case("40to300_14x14_b2_gate", (2, 40, 300, 14, 14), true, false),
        // Shapes that take the other tiles (which need many workgroups' worth of work).
        case("13to200_53x5_b3_gate", (3, 13, 200, 53, 5), true, false),
        case("20to200_29x12_b3", (3, 20, 200, 29, 12), false, false),
        case("9to37_41x45_b2_res", (2, 9, 37, 41, 45), false, true),
        case("9to37_48x45_b2_gate", (2, 9, 37, 48, 45), true, false),
        case("7to37_39x45_b3", (3, 7, 37, 39, 45), false, false),
        case("7to37_44x45_b3", (3, 7, 37, 44, 45), false, false),
        case("10to256_59x31", (1, 10, 256, 59, 31), false, false),
        case("20to256_31x42_b3_gate", (3, 20, 256, 31, 42), true, false),
        case("12to256_36x39_b3", (3, 12, 256, 36, 39), false, false),
        case("24to256_31x31_b2_res", (2, 24, 256, 31, 31), false, true),
        case("16to256_20x35_b3", (3, 16, 256, 20, 35), false, false),
        case("8to128_28x38_b4_gate", (4, 8, 128, 28, 38), true, false),
        // 8 × 4 outputs per lane.
        case("8to256_56x56_b3_gate", (3, 8, 256, 56, 56), true, false),
        case("12to256_65x65_b2_res", (2, 12, 256, 65, 65), false, true),
        case("8to7552_13x20", (1, 8, 7552, 13, 20), false, false),
    ]
}

#[test]
fn b0_and_v2s_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &pointwise::cases());
}

#[test]
fn odd_shapes_match_the_reference() {
    let cases = odd_cases();
    // They cover every tile in both epilogues but 64×32 with 8 × 4 outputs per lane on
    // odd planes, which only huge shapes take (its code is that of the other tiles with
    // other constants).
    let mut seen = vec![];
    for c in &cases {
        let Op::Pointwise(op) = c.graph.ops.last().unwrap() else {
            unreachable!()
        };
        let d = describe(&c.graph, op, DEFAULT_UNITS).unwrap();
        let get = |k| d.constants.iter().find(|c| c.0 == k).unwrap().1 as usize;
        let t = Tile {
            tm: get("TM"),
            tn: get("TN"),
            rm: get("RM"),
            sk: get("SK"),
        };
        seen.push((t, get("ALIGNED") == 1));
    }
    for t in all_tiles() {
        for aligned in [false, true] {
            let skip = (t.tm, t.tn, t.rm, aligned) == (64, 32, 8, false);
            assert!(
                skip || seen.contains(&(t, aligned)),
                "{t:?} {aligned} untested"
            );
        }
    }
    check::cases_in(Family::Gpu, &cases);
}

/// Native f16 storage with f16 arithmetic, aligned and odd planes, split-K included.
#[test]
fn f16_arithmetic_matches_the_reference() {
    check::cases_f16_math(&pointwise::cases());
    check::cases_f16_math(&odd_cases());
}
