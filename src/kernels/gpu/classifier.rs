//! GPU family: global average pool + classifier, or the pooled features alone for a
//! headless backbone (shaders/gpu/classifier.wgsl), the same op, parameters and
//! weights as the CPU family's `kernels::ops::classifier`. The grid is blocks of images × blocks
//! of classes: a workgroup pools its images' features a slice at a time into workgroup
//! memory and walks its classes' weight rows with groups of lanes (coalesced), each weight
//! read once for all its images. It needs no scratch buffer.

use super::se::lanes_per_row;
use crate::graph::Graph;
use crate::graph::ops::PoolClassifyOp;
use crate::kernels::ops::classifier::{ClassifierParams, row_len};
use crate::kernels::{DispatchDesc, Params, WeightRef, u};

pub const WGSL: &str = include_str!("../../../shaders/gpu/classifier.wgsl");

/// Invocations per workgroup (`WG`).
pub const WG: usize = 256;
/// vec4 slots of workgroup memory for one slice of pooled features (`XS`, 6 KiB):
/// `ks` = 4·XS / images-per-workgroup features at a time.
pub const XS: usize = 384;
/// vec4 slots of workgroup memory for the block's logits (`OB`, 4 KiB): at most
/// 4·OB / images-per-workgroup classes. With `red` (WG vec4s, 4 KiB) the kernel uses
/// 14 KiB of WebGPU's 16.
pub const OB: usize = 256;
/// The most images per workgroup: the 4 components of a vec4.
pub const MAX_IB: usize = 4;
/// The fewest classes a workgroup computes (where there are more): each workgroup pools its
/// images again, so fewer classes save it only their weight rows (at 1280 features, 32
/// rows cost 2/3 of pooling one 7×7 image; CPU drivers pay every repeated pooling in full).
const MIN_CB: usize = 32;
/// A workgroup's fixed cost (start, barriers) in the cost model's unit, one value read.
const WG_OVERHEAD: usize = 4096;

/// The dispatch of a pool + classifier (or pool alone).
pub fn describe(g: &Graph, op: &PoolClassifyOp, units: usize) -> Option<DispatchDesc> {
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let (n, f, hw) = (i.n, i.c, i.h * i.w);
    let classes = if op.classify { o.c } else { 0 };
    let f4 = f.next_multiple_of(4);
    // Planes of whole vec4s are read as vec4s.
    let (plane_len, plane_bytes) = match hw % 4 {
        0 => (hw / 4, 16),
        _ => (hw, 4),
    };
    // Classes: as many features per slice as `xs` holds for `ib` images; headless: each
    // workgroup pools one slice.
    let (ib, cb, ks) = match classes {
        0 => {
            let (ib, ks) = headless_tile(n, f, hw, units);
            (ib, 0, ks)
        }
        _ => {
            let (ib, cb) = tile(n, f, hw, classes, units);
            (ib, cb, 4 * (XS / ib))
        }
    };
    let slice = ks.min(f4);
    let p = ClassifierParams {
        features: u(f),
        classes: u(classes),
        hw: u(hw),
        inv_hw: 1.0 / hw as f32,
        row_len: u(row_len(f)),
        bias_off: u(classes * row_len(f)),
        groups: 0,
        images: u(n),
        ib: u(ib),
        cb: u(cb),
        ks: u(ks),
        lp: lanes_per_row(slice, ib * plane_len, plane_bytes),
        lw: lanes_per_row(cb, slice / 4, 16),
    };
    let mut d = DispatchDesc::new(
        Params::Classifier(p),
        WeightRef::Classifier,
        op.input,
        op.output,
    );
    d.constants = vec![("WG", u(WG)), ("XS", u(XS)), ("OB", u(OB))];
    let blocks = match classes {
        0 => f4.div_ceil(ks),
        _ => classes.div_ceil(cb),
    };
    d.workgroups = [u(blocks), u(n.div_ceil(ib)), 1];
    Some(d)
}

/// Images and classes per workgroup for `n` images of `f` planes of `hw` pixels into
/// `classes` logits: the least of (workgroups, at least `units`) × values each reads (its
/// images' planes, its classes' weight rows). More images per workgroup read each weight
/// for more images; more classes per workgroup pool each image fewer times (at B0's batch
/// 64: 3 images × 168 classes, 132 workgroups; at batch 1: 1 × 32, 32 workgroups).
pub fn tile(n: usize, f: usize, hw: usize, classes: usize, units: usize) -> (usize, usize) {
    let mut best = (usize::MAX, 1, 4);
    for ib in 1..=MAX_IB.min(n) {
        for blocks in 1..=classes.div_ceil(MIN_CB) {
            let cb = classes.div_ceil(blocks).next_multiple_of(4);
            if cb > 4 * (OB / ib) {
                continue;
            }
            let groups = n.div_ceil(ib) * classes.div_ceil(cb);
            let reads = ib * f * hw + cb * f + WG_OVERHEAD;
            let cost = groups.max(units) * reads;
            if cost < best.0 {
                best = (cost, ib, cb);
            }
        }
    }
    (best.1, best.2)
}

/// Images and features per workgroup of a headless backbone's pooling, likewise: the
/// least of (workgroups, at least `units`) × values each reads.
pub fn headless_tile(n: usize, f: usize, hw: usize, units: usize) -> (usize, usize) {
    let f4 = f.next_multiple_of(4);
    let mut best = (usize::MAX, 1, 4);
    for ib in 1..=MAX_IB.min(n) {
        for blocks in 1..=f4 / 4 {
            let ks = f4.div_ceil(blocks).next_multiple_of(4);
            if ks > 4 * (XS / ib) {
                continue;
            }
            let groups = n.div_ceil(ib) * f4.div_ceil(ks);
            let cost = groups.max(units) * (ib * ks * hw + WG_OVERHEAD);
            if cost < best.0 {
                best = (cost, ib, ks);
            }
        }
    }
    (best.1, best.2)
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::graph::ops::PoolClassifyOp;
    use crate::graph::{Op, Shape};
    use crate::kernels::case::Case;
    use crate::kernels::gpu::DEFAULT_UNITS;
    use crate::kernels::{Family, Params, check, ops::classifier};
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
            let d = crate::kernels::describe(
                &c.graph,
                &c.graph.ops[0],
                &Default::default(),
                Family::Gpu,
            );
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

    /// The tiles the cost model picks: within the workgroup memory the shader declares,
    /// every case; for B0's head at batch 64 and 1 the ones the doc comment names.
    #[test]
    fn tiles_fit_and_spread() {
        assert_eq!(super::tile(64, 1280, 49, 1000, DEFAULT_UNITS), (3, 168));
        assert_eq!(super::tile(1, 1280, 49, 1000, DEFAULT_UNITS), (1, 32));
        for (n, f, hw, classes) in [(1, 37, 1, 1), (256, 1280, 144, 1000), (5, 2560, 49, 21843)] {
            let (ib, cb) = super::tile(n, f, hw, classes, DEFAULT_UNITS);
            assert!(ib <= super::MAX_IB && cb <= 4 * (super::OB / ib) && cb % 4 == 0);
            let (ib, ks) = super::headless_tile(n, f, hw, DEFAULT_UNITS);
            assert!(ib <= super::MAX_IB && ks <= 4 * (super::XS / ib) && ks % 4 == 0);
        }
    }
}
