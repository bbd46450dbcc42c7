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

pub(crate) const WGSL: &str = include_str!("../../../shaders/gpu/classifier.wgsl");

/// Invocations per workgroup (`WG`).
pub(crate) const WG: usize = 256;
/// vec4 slots of workgroup memory for one slice of pooled features (`XS`, 6 KiB):
/// `ks` = 4·XS / images-per-workgroup features at a time.
pub(crate) const XS: usize = 384;
/// vec4 slots of workgroup memory for the block's logits (`OB`, 4 KiB): at most
/// 4·OB / images-per-workgroup classes. With `red` (WG vec4s, 4 KiB) the kernel uses
/// 14 KiB of WebGPU's 16.
pub(crate) const OB: usize = 256;
/// The most images per workgroup: the 4 components of a vec4.
pub(crate) const MAX_IB: usize = 4;
/// The fewest classes a workgroup computes (where there are more): each workgroup pools its
/// images again, so fewer classes save it only their weight rows (at 1280 features, 32
/// rows cost 2/3 of pooling one 7×7 image; CPU drivers pay every repeated pooling in full).
const MIN_CB: usize = 32;
/// A workgroup's fixed cost (start, barriers) in the cost model's unit, one value read.
const WG_OVERHEAD: usize = 4096;

/// The dispatch of a pool + classifier (or pool alone).
pub(crate) fn describe(g: &Graph, op: &PoolClassifyOp, units: usize) -> Option<DispatchDesc> {
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
pub(crate) fn tile(n: usize, f: usize, hw: usize, classes: usize, units: usize) -> (usize, usize) {
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
pub(crate) fn headless_tile(n: usize, f: usize, hw: usize, units: usize) -> (usize, usize) {
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
mod tests {
    use crate::kernels::gpu::DEFAULT_UNITS;

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
