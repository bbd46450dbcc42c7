//! Depthwise k×k convolution + folded BN + activation, optionally leaving per-channel partial
//! sums of its output for the SE block that follows (shaders/cpu/depthwise.wgsl).

use crate::graph::Graph;
use crate::graph::ops::{ConvGeom, DepthwiseOp};
use crate::kernels::ops::depthwise::dispatch;
use crate::kernels::{DispatchDesc, Params, act_code, u, vec_taps};

pub(crate) const WGSL: &str = include_str!("../../../shaders/cpu/depthwise.wgsl");

/// Consecutive outputs of a row one invocation computes (`OUT_X`; one vec4).
pub(crate) const OUT_X: usize = 4;
/// The most invocations per workgroup (`WG` is 8 to this, sized to the plane: `grid`).
pub(crate) const MAX_WG: usize = 64;

/// Invocations per workgroup (8, 16, 32 or 64, at most `max_wg`) and workgroups for `items`
/// units of work: the largest size whose invocations exceed the fewest possible by at most
/// 1/8. On CPU drivers a group of 8 lanes with nothing to do still runs a kernel's
/// straight-line code, so small planes get small workgroups (B0's 7×7 depthwise layers ran
/// 3× faster for it on lavapipe); large planes keep 64: fewer workgroups, and fewer distinct
/// pipelines to compile (lavapipe: ~50 ms each, at every start).
fn lane_grid(items: usize, max_wg: usize) -> (usize, usize) {
    let sizes = [64, 32, 16, 8].into_iter().filter(|&wg| wg <= max_wg);
    let grid = |wg: usize| (wg, items.div_ceil(wg));
    let fewest = sizes
        .clone()
        .map(|wg| wg * items.div_ceil(wg))
        .min()
        .unwrap_or(8);
    sizes
        .map(grid)
        .find(|&(wg, tiles)| wg * tiles <= fewest + fewest / 8)
        .unwrap_or_else(|| grid(8))
}

/// Output rows one invocation computes (`ROWS`): 4 on planes of at least 28 rows with the
/// unrolled kernel sizes, whose input rows then serve more outputs (B0's large depthwise
/// layers ran ~15% faster for it on lavapipe); 2 on small planes, where 4 would leave lanes
/// idle.
pub(crate) fn rows(h: usize, geom: &ConvGeom) -> usize {
    let unrolled = matches!(geom.k, 3 | 5) && matches!(geom.stride, 1 | 2);
    if unrolled && h >= 28 { 4 } else { 2 }
}

/// `WG` and workgroups per channel for an `h`×`w` output; each invocation computes
/// `rows` rows × `OUT_X` columns.
pub(crate) fn grid(h: usize, w: usize, geom: &ConvGeom) -> (usize, usize) {
    lane_grid(h.div_ceil(rows(h, geom)) * w.div_ceil(OUT_X), MAX_WG)
}

/// Partial sums per channel the kernel leaves for SE for an `h`×`w` output: one per
/// invocation, so it needs no barrier (the SE kernel adds them up). The lowering sizes the
/// SE sums tensor with it.
pub(crate) fn se_partials(h: usize, w: usize, geom: &ConvGeom) -> usize {
    let (wg, tiles) = grid(h, w, geom);
    wg * tiles
}

/// The dispatch of a depthwise conv. Grid: x = tiles of WG invocations, y = channels,
/// z = batch.
pub(crate) fn describe(g: &Graph, op: &DepthwiseOp) -> DispatchDesc {
    let DepthwiseOp {
        output,
        geom,
        se_sums,
        ..
    } = *op;
    let (i, o) = (g.shapes[op.input], g.shapes[output]);
    let (wg, tiles) = grid(o.h, o.w, &geom);
    if let Some(s) = se_sums {
        debug_assert_eq!(g.shapes[s].w, wg * tiles, "SE sums sized by se_partials");
    }
    let mut d = dispatch(g, op);
    if let Params::Depthwise(p) = &mut d.params {
        p.tiles = u(tiles);
    }
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", act_code(geom.act)),
        ("HAS_SUMS", se_sums.is_some() as u32),
        ("WG", u(wg)),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("ROWS", u(rows(o.h, &geom))),
        ("VEC_TAPS", vec_taps(i.w, &geom) as u32),
        ("OUT_X", u(OUT_X)),
    ];
    d.workgroups = [u(tiles), u(o.c), u(o.n)];
    d
}
