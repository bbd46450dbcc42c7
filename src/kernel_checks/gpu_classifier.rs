//! The GPU family's pooling and classifier (`kernels::gpu::classifier`) on the GPU: B0's
//! and V2-S's heads, odd shapes and headless backbones, over planes and rows long enough
//! for every path of its sums across lanes.

use super::check;
use crate::graph::ops::PoolClassifyOp;
use crate::graph::{Op, Shape};
use crate::kernels::case::Case;
use crate::kernels::{Family, Params, ops::classifier};
use crate::model::rule::rule_tensor;
use crate::model::weights::ModelWeights;

/// Pooling `n` images of `f` planes of `h`×`w` into `classes` logits, or (0) the
/// pooled features of a headless backbone.
pub(crate) fn case(
    name: &'static str,
    n: usize,
    f: usize,
    (h, w): (usize, usize),
    classes: usize,
) -> Case {
    let op = Op::PoolClassify(PoolClassifyOp {
        input: 0,
        output: 1,
        classify: classes > 0,
    });
    let weights = ModelWeights {
        convs: vec![],
        ses: vec![],
        classifier_w: rule_tensor(name, &[classes, f]),
        classifier_b: rule_tensor("bias", &[classes]),
    };
    let out = Shape {
        n,
        c: if classes > 0 { classes } else { f },
        h: 1,
        w: 1,
    };
    Case::new(name, vec![Shape { n, c: f, h, w }, out], op, weights)
}

/// B0's and V2-S's heads, and odd shapes: features 37 (not a multiple of 4) and 1280,
/// classes 1, 3 and 1000, 1×1 and 7×7 planes (not whole vec4s) and 4×3 ones (whole
/// vec4s), batches 2, 5 and 299 (the last image block short; 299: 4 images per workgroup, the
/// features in several slices), headless backbones, planes and rows long enough for 16
/// to 64 lanes.
#[test]
fn gpu_family_matches_the_reference() {
    let mut cases = classifier::cases();
    cases.extend([
        case("cls_b2_37to1_7", 2, 37, (7, 7), 1),
        case("cls_b5_37to3_1x1", 5, 37, (1, 1), 3),
        case("cls_b5_1280to1000_7", 5, 1280, (7, 7), 1000),
        case("cls_b2_1280to1000_4x3", 2, 1280, (4, 3), 1000),
        case("cls_b64_1280to1000_7", 64, 1280, (7, 7), 1000),
        case("cls_b1_1281to999_1x1", 1, 1281, (1, 1), 999),
        case("headless_b2_37_7", 2, 37, (7, 7), 0),
        case("headless_b5_1280_1x1", 5, 1280, (1, 1), 0),
        case("headless_b5_1282_4x3", 5, 1282, (4, 3), 0),
        case("cls_b299_1282to64_4x3", 299, 1282, (4, 3), 64),
        case("headless_b299_37_7", 299, 37, (7, 7), 0),
        case("cls_b1_3to2_192x192", 1, 3, (192, 192), 2),
        case("cls_b1_2560to3_1x1", 1, 2560, (1, 1), 3),
        case("headless_b1_6_45x45", 1, 6, (45, 45), 0),
    ]);
    let mut lanes = vec![];
    for c in &cases {
        let d =
            crate::kernels::describe(&c.graph, &c.graph.ops[0], &Default::default(), Family::Gpu);
        eprintln!("{}: {:?} {:?}", c.name, d.workgroups, d.params);
        let Params::Classifier(p) = d.params else {
            unreachable!()
        };
        // (Headless, no logits: `lw` is unused.)
        lanes.extend([p.lp].into_iter().chain((p.classes > 0).then_some(p.lw)));
    }
    check::lanes_cover(&lanes);
    // Each case is compared with check.rs's tolerance, 1e-4 of the output's RMS (f32
    // sums of up to 1280 terms against f64).
    check::cases_in(Family::Gpu, &cases);
}
