//! The GPU family's SE (`kernels::gpu::se`) on the GPU: B0's and V2-S's blocks and odd
//! shapes, over rows long enough for every path of its sums across lanes.

use super::check;
use crate::graph::Shape;
use crate::graph::ops::SeExciteOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::Case;
use crate::kernels::gpu::DEFAULT_UNITS;
use crate::kernels::gpu::se::tile;
use crate::kernels::{Family, Params, ops::se};
use crate::model::Activation;

/// SE over `n` images of `c` channels reduced to `r`, from `partials` partial sums per
/// channel.
pub(crate) fn case(name: &'static str, n: usize, c: usize, r: usize, partials: usize) -> Case {
    let sums = Shape {
        n,
        c,
        h: 1,
        w: partials,
    };
    let act = match c % 2 {
        0 => Activation::Silu,
        _ => Activation::Relu6,
    };
    let op = Op::SeExcite(SeExciteOp {
        sums: 0,
        gate: 1,
        se: 0,
        reduced: r,
        // A 1×1 plane leaves one partial sum.
        hw: if partials == 1 { 1 } else { 3 * partials + 1 },
        act,
    });
    let weights = se::case_weights(c, r);
    Case::new(name, vec![sums, Shape { w: 1, ..sums }], op, weights)
}

fn tile_of(case: &Case) -> (usize, usize) {
    let Graph { ops, shapes, .. } = &case.graph;
    let Op::SeExcite(op) = ops[0] else {
        unreachable!()
    };
    let s = shapes[op.sums];
    tile(s.n, s.c, op.reduced, s.w, DEFAULT_UNITS)
}

/// B0's and V2-S's widest SE, and odd shapes: channels not a multiple of 4 (or even),
/// R = 1, one partial sum (a 1×1 plane), batches 2 and 5 (the last image block short),
/// more channels than one slice of means holds, ReLU6 (odd channel counts), batch 299
/// (4 images per workgroup, the last block of 3), rows long enough for 16 to 64 lanes.
#[test]
fn gpu_family_matches_the_reference() {
    let mut cases = se::cases();
    cases.extend([
        case("se_b2_37to1", 2, 37, 1, 3),
        case("se_b5_6to2_1x1", 5, 6, 2, 1),
        case("se_b5_1to1_1x1", 5, 1, 1, 1),
        case("se_b2_1152to48", 2, 1152, 48, 8),
        case("se_b5_1152to48", 5, 1152, 48, 8),
        case("se_b64_1152to48", 64, 1152, 48, 8),
        case("se_b1_3001to67", 1, 3001, 67, 5),
        case("se_b5_1603to83", 5, 1603, 83, 832),
        case("se_b7_30to10", 7, 30, 10, 224),
        case("se_b299_1152to48", 299, 1152, 48, 1),
        case("se_b299_37to3", 299, 37, 3, 2),
        case("se_b1_3to1_3000", 1, 3, 1, 3000),
        case("se_b2_6to2_1500", 2, 6, 2, 1500),
        case("se_b1_1536to1", 1, 1536, 1, 4),
    ]);
    let mut lanes = vec![];
    for c in &cases {
        let d =
            crate::kernels::describe(&c.graph, &c.graph.ops[0], &Default::default(), Family::Gpu);
        let Params::Se(p) = d.params else {
            unreachable!()
        };
        lanes.extend([p.lm, p.l1, p.l2]);
        let tile = tile_of(c);
        eprintln!("{}: (images, channels) per workgroup {tile:?}", c.name);
    }
    check::lanes_cover(&lanes);
    // Each case is compared with check.rs's tolerance, 1e-4 of the output's RMS (f32
    // sums against f64, exp() a few ULP apart between drivers).
    check::cases_in(Family::Gpu, &cases);
}
