//! GPU family: squeeze-and-excitation (shaders/gpu/se.wgsl), the same op, parameters
//! and weights as the CPU family's `kernels::ops::se`: the means of the depthwise kernel's partial
//! sums, W1 + activation, W2 + sigmoid, the gate. Every dot product is a group of lanes
//! walking one weight row together (coalesced), summed through workgroup memory; the grid
//! is images × blocks of gate channels, each workgroup repeating its images' means and
//! hidden layer (one dispatch cannot share them) but computing only its block of gates.

use crate::graph::Graph;
use crate::graph::ops::SeExciteOp;
use crate::kernels::ops::se::{SeParams, offsets};
use crate::kernels::{Aux, DispatchDesc, Params, WeightRef, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/gpu/se.wgsl");

/// Invocations per workgroup (`WG`).
pub(crate) const WG: usize = 256;
/// vec4 slots of workgroup memory staging the means of a slice of channels, then the
/// block's gates (`XS`, 6 KiB): `ks` = 4·XS / images-per-workgroup channels at a time.
pub(crate) const XS: usize = 384;
/// vec4 slots of workgroup memory for the hidden layer (`HQ`, 4 KiB): R ≤ 4·HQ / images.
/// With `red` (WG vec4s, 4 KiB) the kernel uses 14 KiB of WebGPU's 16.
pub(crate) const HQ: usize = 256;
/// The most images per workgroup: the 4 components of a vec4.
pub(crate) const MAX_IB: usize = 4;
/// The fewest gate channels a workgroup computes: below this, splitting an image further
/// saves a workgroup little (its gates cost R·MIN_CB reads beside its means' and W1's
/// R·C) and repeats its means and W1 once more (which CPU drivers pay in full).
const MIN_CB: usize = 128;
/// A workgroup's fixed cost (start, barriers) in the cost model's unit, one value read.
const WG_OVERHEAD: usize = 4096;

/// The dispatch, or `None` where the hidden layer does not fit in workgroup memory (R over
/// 4·HQ; no EfficientNet comes near: B7's widest is 160).
/// The grid is sized for `units` compute units.
pub(crate) fn describe(g: &Graph, op: &SeExciteOp, units: usize) -> Option<DispatchDesc> {
    let s = g.shapes[op.sums];
    let (n, c, r, partials) = (s.n, s.c, op.reduced, s.w);
    if r.div_ceil(4) > HQ {
        return None;
    }
    let (ib, cb) = tile(n, c, r, partials, units);
    let (b1, w2, b2) = offsets(c, r);
    let ks = 4 * (XS / ib);
    let slice = ks.min(c.next_multiple_of(4));
    let p = SeParams {
        channels: u(c),
        reduced: u(r),
        partials: u(partials),
        inv_hw: 1.0 / op.hw as f32,
        b1_off: u(b1),
        w2_off: u(w2),
        b2_off: u(b2),
        images: u(n),
        ib: u(ib),
        cb: u(cb),
        ks: u(ks),
        lm: lanes_per_row(slice, ib * partials, 4),
        l1: lanes_per_row(r.next_multiple_of(4), slice / 4, 16),
        l2: lanes_per_row(cb, r.div_ceil(4), 16),
    };
    let mut d = DispatchDesc::new(Params::Se(p), WeightRef::Se(op.se), op.sums, op.gate);
    // The partial sums are read from `aux`, as the CPU family's kernel does.
    d.src = None;
    d.aux = Aux::Tensor(op.sums);
    d.constants = vec![
        ("ACT", act_code(op.act)),
        ("WG", u(WG)),
        ("XS", u(XS)),
        ("HQ", u(HQ)),
    ];
    d.workgroups = [u(c.div_ceil(cb)), u(n.div_ceil(ib)), 1];
    Some(d)
}

/// Images and gate channels per workgroup for `n` images of `c` channels reduced to `r`
/// with `partials` partial sums each: the least of (workgroups, at least `units`) × values
/// each reads (its images' partial sums, W1, its rows of W2). More images per workgroup
/// read W1 once for more images; more blocks per image spread the gates over more cores
/// but repeat the means and W1. At batch 1: as many blocks as `MIN_CB` allows (9 of 128
/// channels at 1152); at B0's batch 64, 1152 channels: 2 images × 288 channels, 128
/// workgroups.
pub(crate) fn tile(n: usize, c: usize, r: usize, partials: usize, units: usize) -> (usize, usize) {
    let most_ib = MAX_IB.min(n).min(HQ / r.div_ceil(4)).max(1);
    let mut best = (usize::MAX, 1, c.next_multiple_of(4));
    for ib in 1..=most_ib {
        for blocks in 1..=c.div_ceil(MIN_CB) {
            let cb = c.div_ceil(blocks).next_multiple_of(4);
            // The gates are staged where the means were.
            if cb > 4 * (XS / ib) {
                continue;
            }
            let groups = n.div_ceil(ib) * c.div_ceil(cb);
            let reads = ib * c * partials + r * c + cb * r + WG_OVERHEAD;
            let cost = groups.max(units) * reads;
            if cost < best.0 {
                best = (cost, ib, cb);
            }
        }
    }
    (best.1, best.2)
}

/// Lanes that walk each row together (a power of two up to 64) for `rows` rows of `len`
/// loads of `bytes` each: the fewest passes (WG / L rows each) × the per-lane cost of one,
/// its loads (counted once per 32-byte sector its L lanes touch at once, so groups too
/// narrow to fill a sector pay for it), the reduction's L reads and a barrier.
pub(crate) fn lanes_per_row(rows: usize, len: usize, bytes: usize) -> u32 {
    const BARRIER: usize = 16;
    let cost = |l: usize| {
        let sectors_per_load = 32usize.div_ceil(l * bytes);
        rows.div_ceil(WG / l) * (len.div_ceil(l) * sectors_per_load + l + BARRIER)
    };
    let best = (0..=6).map(|e| 1usize << e).min_by_key(|&l| cost(l));
    u(best.unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use crate::kernels::gpu::DEFAULT_UNITS;

    /// The tiles the cost model picks where it matters: all gates of a big image block at
    /// B0's batch 64, more blocks (more cores) at batch 1, and every tile within the
    /// workgroup memory the shader declares.
    #[test]
    fn tiles_fit_and_spread() {
        assert_eq!(super::tile(1, 1152, 48, 8, DEFAULT_UNITS), (1, 128));
        assert_eq!(super::tile(64, 1152, 48, 8, DEFAULT_UNITS), (2, 288));
        for (n, c, r) in [(1, 32, 8), (64, 1152, 48), (256, 1536, 64), (5, 3001, 67)] {
            let (ib, cb) = super::tile(n, c, r, 8, DEFAULT_UNITS);
            assert!(ib <= super::MAX_IB && ib * r.div_ceil(4) <= super::HQ);
            assert!(
                cb <= 4 * (super::XS / ib) && cb % 4 == 0,
                "{n} {c} {r}: {cb}"
            );
        }
    }
}
